from firmscout.cli import app

# Guarded: `serve --workers N` spawns its API processes, and a spawned child imports the parent's main
# module (as __mp_main__); unguarded, each child would run the command line again.
if __name__ == "__main__":
    app()
