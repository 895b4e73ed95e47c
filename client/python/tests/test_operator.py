"""Operator control (issues 29 and 30) from the blocking and async clients against a real
topicd: help-centre articles, tenant-defined topics, hand edits (merge, hide, unhide, split;
the topics then say ``hidden`` and ``aliases``) and the topic tree."""

from __future__ import annotations

import asyncio

import pytest

import topicd

from conftest import ACME_WRITE, encoder_dir
from test_dashboard import DAY1, fit_merge


def test_articles_blocking_and_async(server, data):
    tenant = "kb-py"
    articles = [
        topicd.Article(id="refunds", title="Getting a refund", url="https://help.example/refunds"),
        {"id": "login", "title": "Cannot log in", "summary": "Reset your password from the login page."},
    ]
    with topicd.Client(server.target, timeout=60) as c:
        with pytest.raises(topicd.NotFound):
            c.list_articles(tenant)  # no active model yet
        fit_merge(c, tenant, data, DAY1)
        empty = c.list_articles(tenant)
        assert isinstance(empty, topicd.Articles) and len(empty) == 0 and empty.updated_at is None
        stored = c.set_articles(tenant, articles)
        assert isinstance(stored, topicd.ArticlesSet) and stored.count == 2
        assert (stored.embedding_model is not None) == (encoder_dir() is not None)
        listed = c.list_articles(tenant)
        assert [a.id for a in listed] == ["refunds", "login"], "in the order they were set"
        assert listed[0] == topicd.Article(
            id="refunds", title="Getting a refund", url="https://help.example/refunds"
        )
        assert listed[1].url is None and listed[1].summary.startswith("Reset")
        assert listed.updated_at and listed.embedding_model == stored.embedding_model
        # Bad input: the server's message, or the client's before any call.
        with pytest.raises(topicd.InvalidArgument) as e:
            c.set_articles(tenant, [{"id": "x", "title": ""}])
        assert "title" in e.value.message
        with pytest.raises(topicd.InvalidArgument):
            c.set_articles(tenant, [{"id": "x", "title": "t", "body": "?"}])
        with pytest.raises(topicd.InvalidArgument):
            c.set_articles(tenant, ["just a title"])

    async def run():
        async with topicd.AsyncClient(server.target, timeout=60) as ac:
            return await ac.list_articles(tenant)

    assert asyncio.run(run()) == listed
    with topicd.Client(server.target, timeout=60) as c:
        assert c.set_articles(tenant, []).count == 0, "an empty set removes them all"
        assert len(c.list_articles(tenant)) == 0


@pytest.mark.skipif(encoder_dir() is None, reason="defined topics are embedded by the server")
def test_defined_topics_blocking_and_async(server, data):
    tenant = "defined-py"
    with topicd.Client(server.target, timeout=60) as c:
        with pytest.raises(topicd.NotFound):
            c.get_defined_topics(tenant)
        got = c.set_defined_topics(
            tenant,
            [
                "Refund request",
                topicd.DefinedTopic(
                    "Login problem", "cannot sign in", ["I cannot log in to my account"]
                ),
            ],
        )
        assert isinstance(got, topicd.DefinedTopics)
        assert [s.topic.name for s in got] == ["Refund request", "Login problem"]
        assert got[1].topic.examples == ["I cannot log in to my account"]
        assert got[1].topic.description == "cannot sign in"
        assert all(s.topic_id is None for s in got), "no id before a Fit and a Merge"
        assert got.active_version is None and got.embedding_model and got.updated_at
        assert c.get_defined_topics(tenant) == got
        for bad, needle in (([], "empty"), (["Refunds", "refunds"], "refunds")):
            with pytest.raises(topicd.InvalidArgument) as e:
                c.set_defined_topics(tenant, bad)
            assert needle in e.value.message.lower(), e.value.message
        with pytest.raises(topicd.InvalidArgument):
            c.set_defined_topics(tenant, "Refund request")
        # After a Fit and a Merge the defined topics have ids in the active model.
        _, merged = fit_merge(c, tenant, data, DAY1)
        after = c.get_defined_topics(tenant)
        assert after.active_version == merged.version
        assert all(s.topic_id is not None and s.topic_id >= 0 for s in after)
        labels = {t.topic_id: t.label for t in c.get_model(tenant).topics}
        assert [labels[s.topic_id] for s in after] == ["Refund request", "Login problem"]

    async def run():
        async with topicd.AsyncClient(server.target, timeout=60) as ac:
            return await ac.get_defined_topics(tenant)

    assert asyncio.run(run()) == after


def test_edits_and_the_topic_tree_blocking_and_async(server, data):
    tenant = "edits-py"
    with topicd.Client(server.target, timeout=60) as c:
        fit, m1 = fit_merge(c, tenant, data, DAY1)
        # Documents 0, 1, 2 are of the synthetic topics 0, 1, 2.
        a, b, spam = (fit.assignments[i].topic_id for i in range(3))
        ids = sorted([a, b, spam])
        assert len(fit.topics) == 3 and min(ids) >= 0 and len(set(ids)) == 3

        tree = c.get_topic_tree(tenant)
        assert isinstance(tree, topicd.TopicTree) and tree.version == m1.version
        assert [n.topic_id for n in tree.nodes[:3]] == ids, "leaves first, by id"
        assert len(tree.nodes) == 5 and tree.nodes[-1].topic_ids == ids
        assert tree.nodes[-1].topic_id is None and len(tree.nodes[-1].children) == 2
        assert all(isinstance(th, topicd.TopicTheme) and th.name for th in tree)
        two = c.get_topic_tree(tenant, themes=2)
        assert len(two) == 2
        assert sorted(i for th in two for i in th.topic_ids) == ids
        assert c.get_topic_tree(tenant, version=m1.version, themes=2) == two
        with pytest.raises(topicd.InvalidArgument):
            c.get_topic_tree(tenant, themes=101)

        # Merge b into a, hide the third: new versions; the topics say so.
        merged = c.merge_topics(tenant, b, a)
        assert isinstance(merged, topicd.EditResult) and merged.changed
        assert merged.resolved_topic_ids == [a, b] and merged.version != m1.version
        assert not c.merge_topics(tenant, b, a).changed, "already in effect"
        hidden = c.hide_topic(tenant, spam)
        assert hidden.changed
        topics = {t.topic_id: t for t in c.get_model(tenant).topics}
        assert set(topics) == {a, spam}, "b is an alias now"
        assert topics[a].aliases == [b] and not topics[a].hidden
        assert topics[spam].hidden and topics[spam].aliases == []
        top = c.top_topics(tenant)
        assert [t.topic_id for t in top] == [a] and top[0].aliases == [b]
        assert c.transform(tenant, embeddings=data.embeddings[2:3])[0].topic_id == -1
        # The tree has the visible topics only.
        assert [n.topic_id for n in c.get_topic_tree(tenant).nodes] == [a]

        assert c.unhide_topic(tenant, spam).changed
        assert not {t.topic_id: t for t in c.get_model(tenant).topics}[spam].hidden
        assert c.split_topic(tenant, a).changed
        cancelled = c.edit_topics(tenant, "cancel_split", a)
        assert cancelled.changed and cancelled.resolved_topic_ids == [a]

        # Bad input.
        with pytest.raises(topicd.InvalidArgument) as e:
            c.merge_topics(tenant, a, a)
        assert "itself" in e.value.message
        with pytest.raises(topicd.NotFound):
            c.hide_topic(tenant, 9999)
        with pytest.raises(topicd.InvalidArgument):
            c.edit_topics(tenant, "merge", spam)  # no into_topic_id
        with pytest.raises(ValueError):
            c.edit_topics(tenant, "explode", a)

        # A rollback undoes the edits.
        c.activate(tenant, m1.version)
        topics = {t.topic_id: t for t in c.get_model(tenant).topics}
        assert set(topics) == {a, b, spam}
        assert all(not t.hidden and not t.aliases for t in topics.values())

    async def run():
        async with topicd.AsyncClient(server.target, timeout=60) as ac:
            edit = await ac.hide_topic(tenant, spam)
            return edit, await ac.get_topic_tree(tenant)

    edit, tree_after = asyncio.run(run())
    assert edit.changed and [n.topic_id for n in tree_after.nodes[:2]] == sorted([a, b])
    assert len(tree_after.nodes) == 3


def test_edits_need_the_admin_role(auth_server):
    with topicd.Client(auth_server.target, token=ACME_WRITE, timeout=30) as c:
        with pytest.raises(topicd.PermissionDenied) as e:
            c.hide_topic("acme", 1)
        assert "admin" in e.value.message
