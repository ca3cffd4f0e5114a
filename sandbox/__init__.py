"""Simulated centre systems for OneDoor demos and tests (see ``sandbox/API.md``)."""
