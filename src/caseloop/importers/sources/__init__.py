"""Readers of other desks' exports and APIs, each turning them into `importers.records`."""
