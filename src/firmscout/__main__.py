from firmscout.cli import app

# Guarded: a large import reads its file in a spawned child process, which imports this module again.
if __name__ == "__main__":
    app()
