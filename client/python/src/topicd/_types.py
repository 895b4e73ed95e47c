"""Plain dataclasses for what the client sends and gets back (no protobuf objects leak out)."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Iterator, List, Optional, Union

#: A timestamp argument: an RFC 3339 string, or a datetime (naive ones are taken as UTC).
Timestamp = Union[str, _dt.datetime, _dt.date]


# --- inputs -----------------------------------------------------------------------------------


@dataclass
class Document:
    """A document to fit: its text, an optional id (echoed back in assignments) and time."""

    text: str
    id: str = ""
    created_at: Optional[Timestamp] = None


@dataclass
class Window:
    """The period a Fit's documents come from: inclusive ``start``, exclusive ``end``."""

    start: Timestamp
    end: Timestamp


@dataclass
class FitParams:
    """Overrides of the server's fit parameters; ``None`` keeps the server's default."""

    min_topic_size: Optional[int] = None
    #: "none", "auto" or a number of topics (an int or its text).
    nr_topics: Optional[Union[str, int]] = None
    top_n_words: Optional[int] = None
    seed: Optional[int] = None
    n_neighbors: Optional[int] = None
    n_components: Optional[int] = None
    #: "auto" (detected per document) or one of "en", "fr", "de", "es", "it", "pt", "nl".
    language: Optional[str] = None


# --- results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Keyword:
    word: str
    weight: float


@dataclass(frozen=True)
class Topic:
    """A topic of a model (Fit, GetModel). ``topic_id`` is stable within a tenant."""

    topic_id: int
    label: str
    keywords: List[Keyword]
    size: int
    sample_messages: List[str]
    first_seen: str
    last_seen: str
    #: "active" or "retired" (empty for a fresh day model).
    status: str
    #: True when ``label`` is an operator's label (:meth:`Client.set_topic_label`).
    label_overridden: bool = False
    #: Hidden by an operator (:meth:`Client.hide_topic`): in GetModel, not in the rankings, the
    #: map or the tree; Transform answers -1 near it.
    hidden: bool = False
    #: Ids merged into this topic by hand (:meth:`Client.merge_topics`), ascending: each
    #: answers as this topic.
    aliases: List[int] = field(default_factory=list)


@dataclass(frozen=True)
class Assignment:
    """The topic Fit gave one document (``topic_id`` -1 = outlier, -2 = small talk)."""

    document_id: str
    topic_id: int
    score: float


@dataclass(frozen=True)
class StageTimings:
    embed_seconds: float
    knn_seconds: float
    umap_seconds: float
    hdbscan_seconds: float
    ctfidf_seconds: float
    reduction_seconds: float
    total_seconds: float


@dataclass(frozen=True)
class FitResult:
    """A fitted day model, stored as a candidate ``version``: pass it to ``merge``."""

    tenant: str
    version: str
    topics: List[Topic]
    assignments: List[Assignment]
    outliers: int
    timings: StageTimings
    #: Documents recognised as small talk ("hi", "thanks!"), left out of the topics (-2).
    small_talk: int = 0
    #: Things to read about this fit (e.g. mostly non-English messages, English-only model).
    warnings: List[str] = field(default_factory=list)


@dataclass(frozen=True)
class MergeResult:
    tenant: str
    #: The new active version.
    version: str
    total_topics: int
    new_topics: int
    matched_topics: int
    retired_topics: int
    #: The version active before (None for a tenant's first model).
    previous_version: Optional[str]


@dataclass(frozen=True)
class TopicMatch:
    """The topic Transform gave one input (``topic_id`` -1 and an empty label = no topic)."""

    topic_id: int
    label: str
    score: float


@dataclass(frozen=True)
class TransformResult:
    """Transform's answer: one :class:`TopicMatch` per input, in input order (iterable)."""

    tenant: str
    version: str
    results: List[TopicMatch]
    #: Inputs recognised as small talk ("hi", "thanks!"; texts only): their ``topic_id`` is -2.
    small_talk: int = 0

    def __iter__(self) -> Iterator[TopicMatch]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    def __getitem__(self, i: int) -> TopicMatch:
        return self.results[i]


@dataclass(frozen=True)
class DailyCount:
    date: str
    count: int


@dataclass(frozen=True)
class TopTopic:
    topic_id: int
    label: str
    keywords: List[Keyword]
    message_count: int
    sample_messages: List[str]
    first_seen: str
    last_seen: str
    rank: int
    #: Daily counts, filled only with ``trend=True``.
    trend: List[DailyCount] = field(default_factory=list)
    #: True when ``label`` is an operator's label (:meth:`Client.set_topic_label`).
    label_overridden: bool = False
    #: Ids merged into this topic by hand (:meth:`Client.merge_topics`), ascending. (A hidden
    #: topic is never a top topic.)
    aliases: List[int] = field(default_factory=list)


@dataclass(frozen=True)
class TopTopics:
    """The tenant's dashboard snapshot (iterable over its :class:`TopTopic` rows)."""

    tenant: str
    version: str
    analysis_date: str
    date_range_start: str
    date_range_end: str
    topics: List[TopTopic]

    def __iter__(self) -> Iterator[TopTopic]:
        return iter(self.topics)

    def __len__(self) -> int:
        return len(self.topics)

    def __getitem__(self, i: int) -> TopTopic:
        return self.topics[i]


@dataclass(frozen=True)
class ModelInfo:
    tenant: str
    version: str
    storage_path: str
    total_topics: int
    total_documents: int
    date_range_start: str
    date_range_end: str
    is_active: bool
    #: "candidate" (a fitted day model) or "merged".
    kind: str
    created_at: str
    #: Free-form JSON metadata (params, timings, provider names), as text.
    metadata_json: str


@dataclass(frozen=True)
class ModelDetails:
    """GetModel's answer: the model's row, its topics and its embedding model."""

    info: ModelInfo
    topics: List[Topic]
    embedding_model: str
    embedding_dim: int


@dataclass(frozen=True)
class ActivateResult:
    tenant: str
    version: str
    previous_version: Optional[str]


@dataclass(frozen=True)
class DeleteResult:
    tenant: str
    models_deleted: int
    files_deleted: int


@dataclass(frozen=True)
class MergedWindow:
    start: str
    end: str
    version: str
    merged_at: str


# --- dashboard ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TenantSummary:
    """A tenant with an active model (ListTenants)."""

    tenant: str
    active_version: str
    total_topics: int
    total_documents: int
    #: Last day of the documents behind the active model ("" when unknown).
    date_range_end: str
    #: When the active version was activated (RFC 3339).
    updated_at: str


@dataclass(frozen=True)
class TopicPoint:
    """One topic on the topic map (classical MDS of the topic embeddings' cosine distances)."""

    topic_id: int
    label: str
    x: float
    y: float
    size: int
    #: The top 5 keywords.
    keywords: List[str]


@dataclass(frozen=True)
class TopicMap:
    """A model's topic map: one :class:`TopicPoint` per active topic (iterable)."""

    tenant: str
    version: str
    points: List[TopicPoint]

    def __iter__(self) -> Iterator[TopicPoint]:
        return iter(self.points)

    def __len__(self) -> int:
        return len(self.points)

    def __getitem__(self, i: int) -> TopicPoint:
        return self.points[i]


@dataclass(frozen=True)
class FoundTopic:
    """A topic near a searched phrase; ``score`` is their cosine."""

    topic_id: int
    label: str
    score: float


@dataclass(frozen=True)
class FoundTopics:
    """FindTopics' answer, nearest first (iterable)."""

    tenant: str
    version: str
    topics: List[FoundTopic]

    def __iter__(self) -> Iterator[FoundTopic]:
        return iter(self.topics)

    def __len__(self) -> int:
        return len(self.topics)

    def __getitem__(self, i: int) -> FoundTopic:
        return self.topics[i]


@dataclass(frozen=True)
class TopicChange:
    """A topic's messages in the last 7 days of the history window and the 7 before."""

    topic_id: int
    label: str
    recent_count: int
    previous_count: int
    #: ``(recent - previous) / max(previous, 1)``.
    relative_change: float


@dataclass(frozen=True)
class TopicChanges:
    """What changed in the active model since ``previous_version`` (None: the first model)."""

    tenant: str
    version: str
    previous_version: Optional[str]
    new_topics: List[TopicChange]
    retired_topics: List[TopicChange]
    rising: List[TopicChange]
    falling: List[TopicChange]


@dataclass(frozen=True)
class LabelResult:
    """SetTopicLabel's answer: the label shown now and the generated one underneath."""

    tenant: str
    #: The active version holding the edit.
    version: str
    topic_id: int
    label: str
    generated_label: str
    overridden: bool


@dataclass(frozen=True)
class FaqArticle:
    """The help-centre article answering an FAQ entry."""

    id: str
    title: str
    url: Optional[str]
    score: float


@dataclass(frozen=True)
class FaqEntry:
    """One question of a tenant's FAQ (issue 29)."""

    topic_id: int
    label: str
    question: str
    examples: List[str]
    message_count: int
    last_7_days: int
    previous_7_days: int
    language: Optional[str]
    #: None when no article answers the entry.
    article: Optional[FaqArticle]


@dataclass(frozen=True)
class Faq:
    """A tenant's FAQ, most asked first; ``text`` holds the Markdown or CSV document when one
    was asked for."""

    tenant: str
    version: str
    entries: List[FaqEntry]
    format: str
    text: str


# --- knowledge base, defined topics, hand edits, topic tree -----------------------------------


@dataclass(frozen=True)
class Article:
    """A help-centre article (:meth:`Client.set_articles`): the tenant's ``id`` (unique), a
    one-line ``title``, optional http(s) ``url`` and ``summary``."""

    id: str
    title: str
    url: Optional[str] = None
    summary: Optional[str] = None


@dataclass(frozen=True)
class ArticlesSet:
    """SetArticles' answer: how many articles are stored and the model that embedded them
    (None when the server has no embedding provider)."""

    tenant: str
    count: int
    embedding_model: Optional[str]


@dataclass(frozen=True)
class Articles:
    """A tenant's help-centre articles in the order they were set (iterable)."""

    tenant: str
    articles: List[Article]
    #: The model that embedded them (None when not embedded).
    embedding_model: Optional[str]
    #: When they were set (RFC 3339; None when the tenant has none).
    updated_at: Optional[str]

    def __iter__(self) -> Iterator[Article]:
        return iter(self.articles)

    def __len__(self) -> int:
        return len(self.articles)

    def __getitem__(self, i: int) -> Article:
        return self.articles[i]


@dataclass(frozen=True)
class DefinedTopic:
    """A tenant-defined topic (:meth:`Client.set_defined_topics`): a ``name`` (its label
    forever, unique ignoring case), an optional one-line ``description`` and example
    messages."""

    name: str
    description: str = ""
    examples: List[str] = field(default_factory=list)


@dataclass(frozen=True)
class DefinedTopicState:
    """A defined topic and where it stands in the active model."""

    topic: DefinedTopic
    #: Its id in the active model (None until the Merge after the first Fit that used it).
    topic_id: Optional[int]
    #: Documents behind it in the active model.
    size: int


@dataclass(frozen=True)
class DefinedTopics:
    """A tenant's defined topics (iterable over :class:`DefinedTopicState`)."""

    tenant: str
    topics: List[DefinedTopicState]
    #: The embedding model that embedded the topics.
    embedding_model: str
    #: When the list was set (RFC 3339).
    updated_at: str
    #: The active version the topic ids refer to (None without one).
    active_version: Optional[str]
    #: Defined topics of the active model no longer in the list: they retire at the next Merge.
    leaving: List[DefinedTopicState] = field(default_factory=list)

    def __iter__(self) -> Iterator[DefinedTopicState]:
        return iter(self.topics)

    def __len__(self) -> int:
        return len(self.topics)

    def __getitem__(self, i: int) -> DefinedTopicState:
        return self.topics[i]


@dataclass(frozen=True)
class EditResult:
    """EditTopics' answer."""

    tenant: str
    #: The active version holding the edit (the previous one when nothing changed).
    version: str
    #: False when the edit was already in effect (no version was made).
    changed: bool
    #: The ids the edit named, as they resolved (an alias is replaced by its topic).
    resolved_topic_ids: List[int]


@dataclass(frozen=True)
class TopicTreeNode:
    """A node of the topic tree: a leaf (one topic, ``topic_id`` set) or the merge of two
    ``children`` at linkage ``distance`` (1 - cosine, average linkage)."""

    index: int
    topic_id: Optional[int]
    children: List[int]
    distance: float
    topic_ids: List[int]
    size: int
    #: Merged keywords, best first.
    keywords: List[str]
    #: The first three keywords, or the topic's label for a leaf.
    name: str


@dataclass(frozen=True)
class TopicTheme:
    """A theme: a subtree of the topic tree (a group of related topics)."""

    node: int
    name: str
    topic_ids: List[int]
    size: int


@dataclass(frozen=True)
class TopicTree:
    """GetTopicTree's answer: leaves (ascending topic id) then inner nodes in merge order (the
    last is the root), and the themes, largest first (iterable over the themes)."""

    tenant: str
    version: str
    nodes: List[TopicTreeNode]
    themes: List[TopicTheme]

    def __iter__(self) -> Iterator[TopicTheme]:
        return iter(self.themes)

    def __len__(self) -> int:
        return len(self.themes)

    def __getitem__(self, i: int) -> TopicTheme:
        return self.themes[i]
