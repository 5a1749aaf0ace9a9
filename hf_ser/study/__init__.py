"""The study: reports (Tables 2-3, the claim check), statistics, the grid simulator, sensitivity,
analyses of trained runs and the paper's numbers. It may import every other stage.
"""
