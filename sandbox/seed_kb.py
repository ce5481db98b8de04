"""The knowledge-base articles the sandbox seeds, per company."""

from sandbox.seed_kb_acme import ACME_ARTICLES
from sandbox.seed_kb_globex import GLOBEX_ARTICLES
from sandbox.seed_kb_types import SeedArticle

__all__ = ["ACME_ARTICLES", "GLOBEX_ARTICLES", "SeedArticle"]
