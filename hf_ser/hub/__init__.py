"""Sharing on the Hub: the model card, staging a run's folder, and the upload. It imports the core,
data, train and infer (the card measures the pipeline gap with predict, a Space uses the app).
"""
