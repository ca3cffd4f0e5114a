"""The OneDoor gateway: HTTP and operation stages, settings, runtime, CLI glue.

GraphQL types live in :mod:`schema`, centre adapters in :mod:`connectors`;
:mod:`gateway.app` is the one module that composes them with starlette.
"""
