"""``python -m indicators`` was renamed ``python -m cli`` (the command line now sits above
``reports``, which it writes through; see cli/__init__.py). This hands the same arguments to the
new command in a new process, so old scripts keep working; nothing is imported from above."""
import os
import sys

if __name__ == "__main__":
    print("python -m indicators 已更名为 python -m cli（参数不变） / python -m indicators is now python -m cli "
          "(same arguments)", file=sys.stderr)
    os.execv(sys.executable, [sys.executable, "-m", "cli", *sys.argv[1:]])
