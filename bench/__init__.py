"""Benchmarks: ours beside LangChain's create_agent and a bare loop, in the same run."""
