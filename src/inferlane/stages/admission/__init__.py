"""Admission control: criticality, a bounded priority queue in front of saturated pools, shedding."""
