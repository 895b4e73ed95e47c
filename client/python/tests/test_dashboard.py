"""The dashboard calls of the blocking and async clients against a real topicd: tenants, the
topic map, search, what changed, and operators' labels (kept across merges, undone by a
rollback)."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

import topicd

from conftest import ACME_READ, ACME_WRITE, ADMIN

DAY1 = ("2026-11-24T00:00:00Z", "2026-11-25T00:00:00Z")
DAY2 = ("2026-11-25T00:00:00Z", "2026-11-26T00:00:00Z")


def fit_merge(c, tenant, data, window):
    fit = c.fit(
        tenant,
        data.texts,
        created_at=window[0].replace("T00:", "T12:"),
        window=window,
        embeddings=data.embeddings,
        params=topicd.FitParams(seed=42, min_topic_size=5),
    )
    return fit, c.merge(tenant, fit.version)


def test_map_labels_changes_and_tenants(server, data):
    tenant = "dash-py"
    with topicd.Client(server.target, timeout=60) as c:
        fit, m1 = fit_merge(c, tenant, data, DAY1)
        topic = fit.topics[0].topic_id
        generated = fit.topics[0].label

        tmap = c.topic_map(tenant)
        assert isinstance(tmap, topicd.TopicMap) and tmap.version == m1.version
        assert sorted(p.topic_id for p in tmap) == sorted(t.topic_id for t in fit.topics)
        assert all(isinstance(p, topicd.TopicPoint) and p.size == 20 and p.keywords for p in tmap)
        assert c.topic_map(tenant, version=m1.version) == tmap, "same model, same picture"

        edit = c.set_topic_label(tenant, topic, "Refunds and money back")
        assert isinstance(edit, topicd.LabelResult)
        assert (edit.label, edit.generated_label, edit.overridden) == (
            "Refunds and money back",
            generated,
            True,
        )
        assert edit.version != m1.version
        top = {t.topic_id: t for t in c.top_topics(tenant)}
        assert top[topic].label == "Refunds and money back" and top[topic].label_overridden
        assert not any(t.label_overridden for i, t in top.items() if i != topic)
        assert {t.topic_id: t.label for t in c.get_model(tenant).topics}[topic] == edit.label

        # The next night keeps the label.
        _, m2 = fit_merge(c, tenant, data, DAY2)
        assert m2.previous_version == edit.version
        again = {t.topic_id: t for t in c.top_topics(tenant)}
        assert again[topic].label == "Refunds and money back" and again[topic].label_overridden

        changes = c.topic_changes(tenant)
        assert isinstance(changes, topicd.TopicChanges)
        assert changes.version == m2.version and changes.previous_version == edit.version
        assert changes.new_topics == [] and changes.retired_topics == []

        cleared = c.set_topic_label(tenant, topic, "")
        assert (cleared.label, cleared.overridden) == (generated, False)
        with pytest.raises(topicd.NotFound):
            c.set_topic_label(tenant, 999, "nope")
        with pytest.raises(topicd.InvalidArgument):
            c.set_topic_label(tenant, topic, "two\nlines")

        tenants = {t.tenant: t for t in c.list_tenants()}
        assert isinstance(tenants[tenant], topicd.TenantSummary)
        assert tenants[tenant].active_version == cleared.version
        assert tenants[tenant].total_topics == 3


def test_find_topics(server, data):
    tenant = "dash-search"
    with topicd.Client(server.target, timeout=60) as c:
        fit_merge(c, tenant, data, DAY1)
        with pytest.raises(topicd.InvalidArgument):
            c.find_topics(tenant, "   ")
        if server.encoder is None:
            with pytest.raises(topicd.FailedPrecondition):
                c.find_topics(tenant, "refund")
            pytest.skip("no encoder weights: phrases cannot be embedded")
        found = c.find_topics(tenant, "refund my money", limit=2)
        assert isinstance(found, topicd.FoundTopics) and len(found) == 2
        assert found[0].score >= found[1].score
        assert all(f.topic_id >= 0 and f.label for f in found)


def test_async_client_and_roles(auth_server, data):
    with topicd.Client(auth_server.target, token=ACME_WRITE) as w:
        _, merged = fit_merge(w, "acme", data, ("2026-12-01T00:00:00Z", "2026-12-02T00:00:00Z"))
        topic = w.top_topics("acme")[0].topic_id
        assert w.set_topic_label("acme", topic, "Written by nightly").overridden
    with topicd.Client(auth_server.target, token=ACME_READ) as r:
        with pytest.raises(topicd.PermissionDenied):
            r.set_topic_label("acme", topic, "read cannot")
        assert [t.tenant for t in r.list_tenants()] == ["acme"]

    async def run():
        async with topicd.AsyncClient(auth_server.target, token=ADMIN) as a:
            tmap = await a.topic_map("acme")
            changes = await a.topic_changes("acme", limit=1)
            tenants = await a.list_tenants()
            edit = await a.set_topic_label("acme", topic, None)
            return tmap, changes, tenants, edit

    tmap, changes, tenants, edit = asyncio.run(run())
    assert len(tmap) == merged.total_topics
    assert {t.tenant for t in tenants} >= {"acme"}
    assert changes.version != merged.version, "the label edit is the active version"
    assert not edit.overridden


def test_faq_blocking_and_async(server, data):
    tenant = "faq-py"
    with topicd.Client(server.target, timeout=60) as c:
        fit, merged = fit_merge(c, tenant, data, DAY1)
        faq = c.get_faq(tenant)
        assert isinstance(faq, topicd.Faq) and faq.version == merged.version
        assert faq.format == "json" and faq.text == ""
        assert {e.topic_id for e in faq.entries} <= {t.topic_id for t in fit.topics}
        assert faq.entries, "every topic of the synthetic set has messages to ask"
        counts = [e.message_count for e in faq.entries]
        assert counts == sorted(counts, reverse=True), "most asked first"
        for e in faq.entries:
            assert isinstance(e, topicd.FaqEntry) and e.question and e.label
            assert 1 <= len(e.examples) <= 8 and e.article is None
        md = c.get_faq(tenant, "markdown")
        assert md.format == "markdown" and md.entries == faq.entries
        assert faq.entries[0].question in md.text
        # No articles: every entry is a gap.
        assert c.get_faq(tenant, gaps_only=True).entries
        with pytest.raises(ValueError):
            c.get_faq(tenant, "yaml")
        with pytest.raises(topicd.NotFound):
            c.get_faq("no-such-tenant")

    async def run():
        async with topicd.AsyncClient(server.target, timeout=60) as ac:
            return await ac.get_faq(tenant)

    assert asyncio.run(run()) == faq
