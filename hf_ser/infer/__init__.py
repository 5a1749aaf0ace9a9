"""The inference stage: labelling files and long recordings (PyTorch or ONNX), segments, export,
scoring existing models, and the web app. It imports the core, data and train.
"""
