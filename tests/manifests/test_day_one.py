"""Issue #11: generated-manifest defects that would hurt on day one, each tested against the rendered documents."""

from __future__ import annotations

from tests.manifests.conftest import Document, of_kind


def test_single_instance_database_has_no_pdb_so_nodes_can_drain(documents: list[Document]) -> None:
    # CNPG's primary PDB (minAvailable 1) on a one-instance cluster makes every node drain wait forever.
    clusters = {d["metadata"]["namespace"]: d["spec"] for d in of_kind(documents, "Cluster")}
    assert clusters["expense-tracker-staging"]["instances"] == 1
    assert clusters["expense-tracker-staging"].get("enablePDB") is False
    # With a standby the PDB protects the primary during drains (CNPG's default true), so it stays.
    assert clusters["expense-tracker-production"]["instances"] == 2
    assert clusters["expense-tracker-production"].get("enablePDB", True) is True
