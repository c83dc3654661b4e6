"""Judging results over time: baselines, diffs and waivers."""
