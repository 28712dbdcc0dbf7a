"""The provision slice: 第三者提供・共同利用・外国にある第三者への提供 / third-party provision, joint use, provision to third parties abroad."""
