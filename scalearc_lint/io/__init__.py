"""Files in and out: bounded input reads, YAML with line numbers, atomic outputs, resources."""
