"""The provision slice: 第三者提供・共同利用・越境移転 / third-party provision, joint use, cross-border."""
