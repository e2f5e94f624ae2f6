"""codeact: LLM agents that act by writing Python code run in a sandboxed Jupyter kernel."""

__version__ = "0.1.0"
