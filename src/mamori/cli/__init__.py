"""The `mamori` command: composition only (mounts every slice's commands)."""
