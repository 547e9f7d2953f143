"""Deterministic generator of the fictional demo plant corpus (SOPs, batch records, QMS, scenarios).

Entry point: `evals.plant.generator.generate_corpus(out_dir, seed)`; CLI: `devia demo generate`.
"""
