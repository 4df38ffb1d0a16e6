"""Scenarios and the synthetic city: the demo generator, drill event logs and replay."""
