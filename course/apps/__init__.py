"""The `course` command's applications (train, ...), on top of the engines and the facade."""
