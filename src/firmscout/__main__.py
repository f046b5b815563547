from firmscout.cli import app

# Guarded: a spawned child process (the API processes of `serve --workers N`, the reader of a large
# import) imports the parent's main module as __mp_main__; unguarded, each child would run the command line again.
if __name__ == "__main__":
    app()
