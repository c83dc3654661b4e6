"""Change plans: the plan format, its simulation (whatif) and its lint against the procedure."""
