"""The orchestration: recipes, the experiment families, launchers, few-shot and upstream runs: what to
train and where. It imports every stage below it (core, data, train, infer, hub).
"""
