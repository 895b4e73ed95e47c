"""Python values → request messages, response messages → dataclasses."""

from __future__ import annotations

import datetime as _dt
from typing import Any, Iterable, List, Mapping, Optional, Sequence, Union

from . import _types as t
from ._errors import InvalidArgument
from ._proto.topics.v1 import topics_pb2 as pb


def _bad(msg: str, method: str) -> InvalidArgument:
    return InvalidArgument(msg, method=method)


def timestamp(v: Optional[t.Timestamp]) -> str:
    """RFC 3339 in UTC for a datetime/date; strings pass through (the server checks them)."""
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, _dt.datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=_dt.timezone.utc)
        v = v.astimezone(_dt.timezone.utc)
        s = v.isoformat()
        return s[:-6] + "Z" if s.endswith("+00:00") else s
    if isinstance(v, _dt.date):
        return f"{v.isoformat()}T00:00:00Z"
    raise TypeError(f"expected an RFC 3339 string, datetime or date, got {type(v).__name__}")


def embeddings(value: Any, method: str) -> List[pb.Embedding]:
    """A 2-D numpy array (any float dtype) or a sequence of sequences of numbers → Embeddings."""
    if value is None:
        return []
    shape = getattr(value, "shape", None)
    if shape is not None and hasattr(value, "astype"):  # numpy (or numpy-like) array
        if len(shape) != 2:
            raise _bad(
                f"embeddings must be a 2-D array (one row per document), got shape {tuple(shape)}",
                method,
            )
        rows = value.astype("float32").tolist()
    else:
        rows = []
        for i, row in enumerate(value):
            if isinstance(row, (str, bytes)) or not hasattr(row, "__iter__"):
                raise _bad(
                    f"embeddings[{i}] is a {type(row).__name__}, not a sequence of numbers",
                    method,
                )
            r = row.tolist() if hasattr(row, "tolist") else list(row)
            rows.append([float(x) for x in r])
    return [pb.Embedding(values=r) for r in rows]


def window(w: Any, method: str) -> Optional[pb.Window]:
    if w is None:
        return None
    if isinstance(w, t.Window):
        start, end = w.start, w.end
    elif isinstance(w, Mapping):
        start, end = w.get("start"), w.get("end")
    else:
        try:
            start, end = w
        except (TypeError, ValueError):
            raise _bad("window must be a Window, a (start, end) pair or {'start', 'end'}", method)
    return pb.Window(start=timestamp(start), end=timestamp(end))


def fit_params(p: Any, method: str) -> Optional[pb.FitParams]:
    if p is None:
        return None
    if isinstance(p, t.FitParams):
        d = {k: getattr(p, k) for k in t.FitParams.__dataclass_fields__}
    elif isinstance(p, Mapping):
        d = dict(p)
        unknown = set(d) - set(t.FitParams.__dataclass_fields__)
        if unknown:
            raise _bad(f"unknown fit params: {', '.join(sorted(unknown))}", method)
    else:
        raise _bad("params must be a FitParams or a dict", method)
    kwargs = {k: v for k, v in d.items() if v is not None}
    if "nr_topics" in kwargs:
        kwargs["nr_topics"] = str(kwargs["nr_topics"])
    return pb.FitParams(**kwargs)


def documents(
    texts: Iterable[Union[str, t.Document, Mapping[str, Any]]],
    created_at: Any,
    method: str,
) -> List[pb.Document]:
    items = list(texts)
    if isinstance(created_at, (str, _dt.date)) or created_at is None:
        times: Sequence[Any] = [created_at] * len(items)
    else:
        times = list(created_at)
        if len(times) != len(items):
            raise _bad(
                f"created_at has {len(times)} values for {len(items)} documents; "
                "pass one per document or a single value",
                method,
            )
    docs = []
    for i, (item, when) in enumerate(zip(items, times)):
        if isinstance(item, str):
            docs.append(pb.Document(id=str(i), text=item, created_at=timestamp(when)))
        elif isinstance(item, t.Document):
            at = item.created_at if item.created_at is not None else when
            docs.append(pb.Document(id=item.id or str(i), text=item.text, created_at=timestamp(at)))
        elif isinstance(item, Mapping):
            at = item.get("created_at", when)
            docs.append(
                pb.Document(
                    id=str(item.get("id") or i), text=item.get("text", ""), created_at=timestamp(at)
                )
            )
        else:
            raise _bad(
                f"texts[{i}] is a {type(item).__name__}; pass strings, Documents or dicts", method
            )
    return docs


def fit_request(tenant, texts, created_at, window_, embeddings_, params) -> pb.FitRequest:
    m = "Fit"
    req = pb.FitRequest(
        tenant_id=tenant,
        documents=documents(texts, created_at, m),
        embeddings=embeddings(embeddings_, m),
    )
    w = window(window_, m)
    if w is not None:
        req.window.CopyFrom(w)
    p = fit_params(params, m)
    if p is not None:
        req.params.CopyFrom(p)
    return req


def transform_request(tenant, texts, embeddings_) -> pb.TransformRequest:
    if texts is None and embeddings_ is None:
        raise _bad("pass texts or embeddings", "Transform")
    if texts is not None and embeddings_ is not None:
        raise _bad("pass texts or embeddings, not both", "Transform")
    if isinstance(texts, str):
        texts = [texts]
    return pb.TransformRequest(
        tenant_id=tenant,
        texts=list(texts or []),
        embeddings=embeddings(embeddings_, "Transform"),
    )


# --- responses --------------------------------------------------------------------------------


def _none_if_empty(s: str) -> Optional[str]:
    return s or None


def _keywords(ks) -> List[t.Keyword]:
    return [t.Keyword(word=k.word, weight=k.weight) for k in ks]


def topic(m: pb.Topic) -> t.Topic:
    return t.Topic(
        topic_id=m.topic_id,
        label=m.label,
        keywords=_keywords(m.keywords),
        size=m.size,
        sample_messages=list(m.sample_messages),
        first_seen=m.first_seen,
        last_seen=m.last_seen,
        status=m.status,
        label_overridden=m.label_overridden,
        hidden=m.hidden,
        aliases=list(m.aliases),
    )


def fit_result(m: pb.FitResponse) -> t.FitResult:
    tm = m.timings
    return t.FitResult(
        tenant=m.tenant_id,
        version=m.version,
        topics=[topic(x) for x in m.topics],
        assignments=[
            t.Assignment(document_id=a.document_id, topic_id=a.topic_id, score=a.score)
            for a in m.assignments
        ],
        outliers=m.outliers,
        small_talk=m.small_talk,
        warnings=list(m.warnings),
        timings=t.StageTimings(
            embed_seconds=tm.embed_seconds,
            knn_seconds=tm.knn_seconds,
            umap_seconds=tm.umap_seconds,
            hdbscan_seconds=tm.hdbscan_seconds,
            ctfidf_seconds=tm.ctfidf_seconds,
            reduction_seconds=tm.reduction_seconds,
            total_seconds=tm.total_seconds,
        ),
    )


def merge_result(m: pb.MergeResponse) -> t.MergeResult:
    return t.MergeResult(
        tenant=m.tenant_id,
        version=m.version,
        total_topics=m.total_topics,
        new_topics=m.new_topics,
        matched_topics=m.matched_topics,
        retired_topics=m.retired_topics,
        previous_version=_none_if_empty(m.previous_version),
    )


def transform_result(m: pb.TransformResponse) -> t.TransformResult:
    return t.TransformResult(
        tenant=m.tenant_id,
        version=m.version,
        results=[
            t.TopicMatch(topic_id=r.topic_id, label=r.label, score=r.score) for r in m.results
        ],
        small_talk=m.small_talk,
    )


def top_topics(m: pb.GetTopTopicsResponse) -> t.TopTopics:
    return t.TopTopics(
        tenant=m.tenant_id,
        version=m.version,
        analysis_date=m.analysis_date,
        date_range_start=m.date_range_start,
        date_range_end=m.date_range_end,
        topics=[
            t.TopTopic(
                topic_id=x.topic_id,
                label=x.label,
                keywords=_keywords(x.keywords),
                message_count=x.message_count,
                sample_messages=list(x.sample_messages),
                first_seen=x.first_seen,
                last_seen=x.last_seen,
                rank=x.rank,
                trend=[t.DailyCount(date=d.date, count=d.count) for d in x.trend],
                label_overridden=x.label_overridden,
                aliases=list(x.aliases),
            )
            for x in m.topics
        ],
    )


def model_info(m: pb.ModelInfo) -> t.ModelInfo:
    return t.ModelInfo(
        tenant=m.tenant_id,
        version=m.version,
        storage_path=m.storage_path,
        total_topics=m.total_topics,
        total_documents=m.total_documents,
        date_range_start=m.date_range_start,
        date_range_end=m.date_range_end,
        is_active=m.is_active,
        kind=m.kind,
        created_at=m.created_at,
        metadata_json=m.metadata_json,
    )


def model_details(m: pb.GetModelResponse) -> t.ModelDetails:
    return t.ModelDetails(
        info=model_info(m.info),
        topics=[topic(x) for x in m.topics],
        embedding_model=m.embedding_model,
        embedding_dim=m.embedding_dim,
    )


def activate_result(m: pb.ActivateModelResponse) -> t.ActivateResult:
    return t.ActivateResult(
        tenant=m.tenant_id, version=m.version, previous_version=_none_if_empty(m.previous_version)
    )


def delete_result(m: pb.DeleteTenantResponse) -> t.DeleteResult:
    return t.DeleteResult(
        tenant=m.tenant_id, models_deleted=m.models_deleted, files_deleted=m.files_deleted
    )


def merged_windows(m: pb.ListMergedWindowsResponse) -> List[t.MergedWindow]:
    return [
        t.MergedWindow(
            start=w.window.start, end=w.window.end, version=w.version, merged_at=w.merged_at
        )
        for w in m.windows
    ]


def tenants(m: pb.ListTenantsResponse) -> List[t.TenantSummary]:
    return [
        t.TenantSummary(
            tenant=x.tenant_id,
            active_version=x.active_version,
            total_topics=x.total_topics,
            total_documents=x.total_documents,
            date_range_end=x.date_range_end,
            updated_at=x.updated_at,
        )
        for x in m.tenants
    ]


def topic_map(m: pb.GetTopicMapResponse) -> t.TopicMap:
    return t.TopicMap(
        tenant=m.tenant_id,
        version=m.version,
        points=[
            t.TopicPoint(
                topic_id=p.topic_id,
                label=p.label,
                x=p.x,
                y=p.y,
                size=p.size,
                keywords=list(p.keywords),
            )
            for p in m.points
        ],
    )


def found_topics(m: pb.FindTopicsResponse) -> t.FoundTopics:
    return t.FoundTopics(
        tenant=m.tenant_id,
        version=m.version,
        topics=[t.FoundTopic(topic_id=x.topic_id, label=x.label, score=x.score) for x in m.topics],
    )


def _changes(xs) -> List[t.TopicChange]:
    return [
        t.TopicChange(
            topic_id=x.topic_id,
            label=x.label,
            recent_count=x.recent_count,
            previous_count=x.previous_count,
            relative_change=x.relative_change,
        )
        for x in xs
    ]


def topic_changes(m: pb.GetTopicChangesResponse) -> t.TopicChanges:
    return t.TopicChanges(
        tenant=m.tenant_id,
        version=m.version,
        previous_version=_none_if_empty(m.previous_version),
        new_topics=_changes(m.new_topics),
        retired_topics=_changes(m.retired_topics),
        rising=_changes(m.rising),
        falling=_changes(m.falling),
    )


def faq(m: pb.GetFaqResponse) -> t.Faq:
    return t.Faq(
        tenant=m.tenant_id,
        version=m.version,
        entries=[
            t.FaqEntry(
                topic_id=e.topic_id,
                label=e.label,
                question=e.question,
                examples=list(e.examples),
                message_count=e.message_count,
                last_7_days=e.last_7_days,
                previous_7_days=e.previous_7_days,
                language=_none_if_empty(e.language),
                article=(
                    t.FaqArticle(
                        id=e.article.id,
                        title=e.article.title,
                        url=_none_if_empty(e.article.url),
                        score=e.article.score,
                    )
                    if e.HasField("article")
                    else None
                ),
            )
            for e in m.entries
        ],
        format=m.format,
        text=m.text,
    )


def label_result(m: pb.SetTopicLabelResponse) -> t.LabelResult:
    return t.LabelResult(
        tenant=m.tenant_id,
        version=m.version,
        topic_id=m.topic_id,
        label=m.label,
        generated_label=m.generated_label,
        overridden=m.overridden,
    )


# --- knowledge base, defined topics, hand edits, topic tree -----------------------------------


def articles(items: Iterable[Union[t.Article, Mapping[str, Any]]], method: str) -> List[pb.Article]:
    """:class:`Article` or dicts with ``id``, ``title`` and optional ``url``, ``summary``."""
    out = []
    for i, a in enumerate(items):
        if isinstance(a, t.Article):
            d: Mapping[str, Any] = {"id": a.id, "title": a.title, "url": a.url, "summary": a.summary}
        elif isinstance(a, Mapping):
            d = a
            unknown = set(d) - {"id", "title", "url", "summary"}
            if unknown:
                raise _bad(f"articles[{i}] has unknown fields: {', '.join(sorted(unknown))}", method)
        else:
            raise _bad(f"articles[{i}] is a {type(a).__name__}; pass Articles or dicts", method)
        out.append(
            pb.Article(
                id=str(d.get("id") or ""),
                title=str(d.get("title") or ""),
                url=str(d.get("url") or ""),
                summary=str(d.get("summary") or ""),
            )
        )
    return out


def defined_topics(
    items: Iterable[Union[str, t.DefinedTopic, Mapping[str, Any]]], method: str
) -> List[pb.DefinedTopic]:
    """Names, :class:`DefinedTopic` or dicts with ``name`` and optional ``description``,
    ``examples``."""
    out = []
    for i, x in enumerate(items):
        if isinstance(x, str):
            out.append(pb.DefinedTopic(name=x))
            continue
        if isinstance(x, t.DefinedTopic):
            d: Mapping[str, Any] = {
                "name": x.name,
                "description": x.description,
                "examples": x.examples,
            }
        elif isinstance(x, Mapping):
            d = x
            unknown = set(d) - {"name", "description", "examples"}
            if unknown:
                raise _bad(f"topics[{i}] has unknown fields: {', '.join(sorted(unknown))}", method)
        else:
            raise _bad(
                f"topics[{i}] is a {type(x).__name__}; pass names, DefinedTopics or dicts", method
            )
        examples = d.get("examples") or []
        if isinstance(examples, str):
            raise _bad(f"topics[{i}].examples is a string; pass a list of messages", method)
        out.append(
            pb.DefinedTopic(
                name=str(d.get("name") or ""),
                description=str(d.get("description") or ""),
                examples=[str(e) for e in examples],
            )
        )
    return out


def _article(a: pb.Article) -> t.Article:
    return t.Article(
        id=a.id, title=a.title, url=_none_if_empty(a.url), summary=_none_if_empty(a.summary)
    )


def articles_set(m: pb.SetArticlesResponse) -> t.ArticlesSet:
    return t.ArticlesSet(
        tenant=m.tenant_id, count=m.count, embedding_model=_none_if_empty(m.embedding_model)
    )


def articles_list(m: pb.ListArticlesResponse) -> t.Articles:
    return t.Articles(
        tenant=m.tenant_id,
        articles=[_article(a) for a in m.articles],
        embedding_model=_none_if_empty(m.embedding_model),
        updated_at=_none_if_empty(m.updated_at),
    )


def _defined_state(s: pb.DefinedTopicState) -> t.DefinedTopicState:
    return t.DefinedTopicState(
        topic=t.DefinedTopic(
            name=s.topic.name, description=s.topic.description, examples=list(s.topic.examples)
        ),
        topic_id=s.topic_id if s.HasField("topic_id") else None,
        size=s.size,
    )


def defined(m: Union[pb.SetDefinedTopicsResponse, pb.GetDefinedTopicsResponse]) -> t.DefinedTopics:
    return t.DefinedTopics(
        tenant=m.tenant_id,
        topics=[_defined_state(s) for s in m.topics],
        embedding_model=m.embedding_model,
        updated_at=m.updated_at,
        active_version=_none_if_empty(m.active_version),
        leaving=[_defined_state(s) for s in m.leaving],
    )


def edit_result(m: pb.EditTopicsResponse) -> t.EditResult:
    return t.EditResult(
        tenant=m.tenant_id,
        version=m.version,
        changed=m.changed,
        resolved_topic_ids=list(m.resolved_topic_ids),
    )


def topic_tree(m: pb.GetTopicTreeResponse) -> t.TopicTree:
    return t.TopicTree(
        tenant=m.tenant_id,
        version=m.version,
        nodes=[
            t.TopicTreeNode(
                index=n.index,
                topic_id=n.topic_id if n.HasField("topic_id") else None,
                children=list(n.children),
                distance=n.distance,
                topic_ids=list(n.topic_ids),
                size=n.size,
                keywords=list(n.keywords),
                name=n.name,
            )
            for n in m.nodes
        ],
        themes=[
            t.TopicTheme(node=x.node, name=x.name, topic_ids=list(x.topic_ids), size=x.size)
            for x in m.themes
        ],
    )
