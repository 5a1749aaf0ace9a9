"""``python -m hf_ser.recipe NAME [--key value ...]``: the package's documented entry, kept where it always was.

The recipe itself lives in the experiments stage (:mod:`hf_ser.experiments.recipe`); this alias goes through
``hf-ser``'s dispatcher (:mod:`hf_ser.cli`, which imports the chosen command by name), so the top of the package
imports no stage and ``python -m hf_ser.recipe ...`` behaves exactly as ``hf-ser recipe ...``.
"""

import sys

from hf_ser.cli import main

if __name__ == "__main__":
    sys.exit(main(["recipe", *sys.argv[1:]]))
