"""Launching a grid's runs as scheduler jobs, longest first: a SLURM array or this machine's devices, through
``submitit`` (:mod:`~hf_ser.experiments.launch.submission` tells how). It never imports the recipe (the recipe
imports it)."""
