"""workbench: an MCP server with bash and file tools confined to one root directory.

Run it with `python -m mcp_servers.workbench --root DIR`; see `__main__` for options.
"""
