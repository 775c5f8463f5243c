"""The Solara app: controls from the schema, the network, the charts, comparison."""
