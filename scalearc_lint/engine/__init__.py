"""The rule engine: the rule API, discovery, configuration, evaluation and results."""
