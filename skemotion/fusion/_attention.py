"""AttentionFusionClassifier: a small torch network attending over modality embeddings."""

import copy
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from .._device import check_device_string, resolve_device
from .._nanstats import nan_mean_var, std_or_one
from .._optional import import_optional_dependency, lazy_torch_module
from .._sklearn_compat import (
    DocLinkMixin,
    Interval,
    StrOptions,
    _check_sample_weight,
    _fit_context,
)
from .._targets import check_labels, plain
from ._modalities import (
    check_present_in_training,
    presence,
    resolve_modalities,
    validate_features,
    warn_no_modality,
)

_EXTRA = "fusion"


def _torch():
    return import_optional_dependency("torch", extra=_EXTRA, caller="AttentionFusionClassifier")


@lazy_torch_module(module=__name__, extra=_EXTRA, caller="AttentionFusionClassifier")
def _network_class(torch):
    """The torch module class of the network, defined once torch is needed.

    The module-level ``__getattr__`` below returns it under a stable name, so that
    fitted classifiers pickle and unpickle.
    """
    nn = torch.nn

    class AttentionFusionNetwork(nn.Module):
        """Project each modality to `hidden`, attend across modalities, pool, classify."""

        def __init__(self, dims, hidden, n_heads, n_classes, dropout):
            super().__init__()
            self.projections = nn.ModuleList(
                nn.Sequential(nn.Dropout(dropout), nn.Linear(d, hidden), nn.GELU()) for d in dims
            )
            self.modality_embedding = nn.Parameter(torch.zeros(len(dims), hidden))
            self.attention = nn.MultiheadAttention(
                hidden, n_heads, dropout=dropout, batch_first=True
            )
            self.norm = nn.LayerNorm(hidden)
            self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(hidden, n_classes))

        def forward(self, blocks, mask, return_attention=False):
            """`blocks`: one (batch, d_m) tensor per modality; `mask`: True = present.

            With `return_attention`, also the attention weights (batch, query, key),
            averaged over the heads, of this very pass.
            """
            tokens = torch.stack(
                [proj(b) for proj, b in zip(self.projections, blocks, strict=True)], dim=1
            )
            tokens = tokens + self.modality_embedding
            # A sample with no modality attends over all (zero-input) tokens instead of none.
            mask = mask | ~mask.any(dim=1, keepdim=True)
            attended, attention = self.attention(
                tokens, tokens, tokens, key_padding_mask=~mask, need_weights=True
            )
            tokens = self.norm(tokens + attended)
            weights = mask.unsqueeze(-1).to(tokens.dtype)
            pooled = (tokens * weights).sum(dim=1) / weights.sum(dim=1)
            logits = self.head(pooled)
            return (logits, attention) if return_attention else logits

    return AttentionFusionNetwork


def __getattr__(name):
    if name == "AttentionFusionNetwork":
        return _network_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class AttentionFusionClassifier(DocLinkMixin, ClassifierMixin, BaseEstimator):
    """A small neural network over frozen embeddings that attends across modalities.

    Each modality's block is standardised and projected to ``hidden_dim`` features
    (one token per modality, plus a learned modality embedding); one multi-head
    self-attention layer lets the modalities weigh each other per sample, with missing
    modalities masked out; the present tokens are averaged and a linear head predicts
    the class. Trained with AdamW on a weighted cross-entropy, early-stopped on a
    stratified validation split.

    Parameters
    ----------
    hidden_dim : int, default=64
        Size of each modality's projection.
    n_heads : int, default=4
        Attention heads; must divide `hidden_dim`.
    dropout : float, default=0.2
        Dropout on inputs, attention and before the head.
    modality_dropout : float, default=0.1
        During training, each present modality of a sample is hidden with this
        probability (at least one is kept), so the model learns to predict with
        modalities missing.
    learning_rate : float, default=1e-3
        AdamW learning rate.
    weight_decay : float, default=1e-2
        AdamW weight decay.
    batch_size : int, default=64
        Mini-batch size.
    max_epochs : int, default=200
        Upper bound on training epochs.
    validation_fraction : float, default=0.15
        Share of the training data held out (stratified) for early stopping.
    n_iter_no_change : int, default=20
        Stop when the validation loss has not improved for this many epochs; the
        weights of the best epoch are kept.
    class_weight : dict, "balanced" or None, default=None
        Class weights in the loss, as in scikit-learn classifiers.
    random_state : int, RandomState instance or None, default=None
        Seeds initialisation, the validation split, shuffling and dropout. Training on
        the CPU is deterministic for a given integer seed.
    device : str, default="auto"
        ``"auto"`` (cuda, then mps, then cpu) or a device name; resolved at fit time,
        not stored back. The fitted network is moved to the CPU for prediction and
        pickling.
    modalities : dict or None, default=None
        Which columns belong to which modality; see :class:`LateFusionClassifier`.
    verbose : bool or int, default=False
        Print the training and validation loss of each epoch.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    class_prior_ : ndarray of shape (n_classes,)
        Class frequencies in the training data; predicted for a sample with no
        modality (with a warning).
    modalities_ : dict of str to ndarray of int
    network_ : torch.nn.Module
        The trained network (on the CPU).
    mean_, scale_ : ndarray of shape (`n_features_in_`,)
        Standardisation of the input, over present values.
    n_epochs_ : int
        Epochs trained.
    best_epoch_ : int
        The epoch whose weights were kept.
    validation_loss_ : list of float
        Validation loss after each epoch.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)

    See Also
    --------
    LateFusionClassifier : One classifier per modality, probabilities combined by weights.
    EarlyFusion : Standardised, weighted modality blocks side by side, for any classifier.
    skemotion.plots.ModalityAttributionDisplay : Per-class pictures of these weights
        (``method="attention"``) or of how each modality moved the probability.

    Notes
    -----
    torch is imported when ``fit`` runs. Training runs in float32 on `device`; the
    trained network is kept in float64 on the CPU for prediction. The random state is applied inside
    ``torch.random.fork_rng``, so fitting does not change torch's global random state.
    ``sample_weight`` multiplies the per-sample loss (with ``class_weight``, both apply).
    A modality whose block is all NaN for a sample is masked out of the attention; any
    other NaN is imputed with the column's training mean. A modality missing in every
    training sample is an error, and a sample with no modality at all gets
    ``class_prior_`` with a warning, as in :class:`LateFusionClassifier`.

    Examples
    --------
    >>> import numpy as np
    >>> from skemotion.fusion import AttentionFusionClassifier
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 200)
    >>> X = y[:, None] + rng.normal(0, 0.5, (200, 4))
    >>> clf = AttentionFusionClassifier(
    ...     hidden_dim=8, n_heads=2, max_epochs=50, random_state=0, device="cpu",
    ...     modalities={"face": [0, 1], "audio": [2, 3]}).fit(X, y)
    >>> clf.score(X, y) > 0.9
    True
    >>> X[0, :2] = np.nan  # face missing for the first sample: attention skips it
    >>> clf.predict_proba(X[:1]).shape
    (1, 2)
    >>> clf.attention_weights(X[:1]).round(2)  # rows: face, audio attending to ...
    array([[[0., 0.],
            [0., 1.]]])
    """

    _parameter_constraints = {
        "hidden_dim": [Interval(Integral, 1, None, closed="left")],
        "n_heads": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "modality_dropout": [Interval(Real, 0, 1, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "random_state": ["random_state"],
        "device": [str],
        "modalities": [dict, None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        hidden_dim=64,
        *,
        n_heads=4,
        dropout=0.2,
        modality_dropout=0.1,
        learning_rate=1e-3,
        weight_decay=1e-2,
        batch_size=64,
        max_epochs=200,
        validation_fraction=0.15,
        n_iter_no_change=20,
        class_weight=None,
        random_state=None,
        device="auto",
        modalities=None,
        verbose=False,
    ):
        self.hidden_dim = hidden_dim
        self.n_heads = n_heads
        self.dropout = dropout
        self.modality_dropout = modality_dropout
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.class_weight = class_weight
        self.random_state = random_state
        self.device = device
        self.modalities = modalities
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train the network, early-stopping on a validation split.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            All modalities' features; an all-NaN block is a missing modality.
        y : array-like of shape (n_samples,)
            Target labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights of the loss.

        Returns
        -------
        self : object
            The fitted classifier.
        """
        check_device_string(self.device, type(self).__name__)
        if self.hidden_dim % self.n_heads:
            raise ValueError(
                f"The 'n_heads' parameter of AttentionFusionClassifier must divide "
                f"hidden_dim={self.hidden_dim}. Got {self.n_heads!r} instead."
            )
        check_labels(y, type(self).__name__)
        X, y = validate_features(self, X, y, ensure_all_finite="allow-nan", dtype=np.float32)
        check_classification_targets(y)
        le = LabelEncoder().fit(y)
        self.classes_ = le.classes_
        if len(self.classes_) < 2:  # as the other fusion classifiers
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes in the data; "
                f"got only one class: {plain(self.classes_[0])!r}."
            )
        y_enc = le.transform(y)
        weights = _check_sample_weight(sample_weight, X, dtype=np.float32)
        if self.class_weight is not None:
            weights = weights * compute_sample_weight(self.class_weight, y).astype(np.float32)
        self.modalities_ = resolve_modalities(
            self, getattr(self, "feature_names_in_", None), X.shape[1]
        )
        check_present_in_training(self, presence(X, self.modalities_), self.modalities_)
        self.class_prior_ = np.bincount(y_enc, minlength=len(self.classes_)) / len(y_enc)
        mean, var, _ = nan_mean_var(X)
        self.mean_ = mean.astype(np.float32)
        self.scale_ = std_or_one(var, dtype=np.float32).astype(np.float32)

        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        indices = np.arange(X.shape[0])
        stratify = y_enc if np.bincount(y_enc).min() >= 2 else None
        n_val = max(1, int(round(self.validation_fraction * X.shape[0])))
        if X.shape[0] - n_val < 1 or (stratify is not None and n_val < len(self.classes_)):
            stratify = None
        if X.shape[0] < 2:
            train_idx = val_idx = indices
        else:
            train_idx, val_idx = train_test_split(
                indices, test_size=n_val, stratify=stratify, random_state=seed
            )

        torch = _torch()
        device = resolve_device(self.device, type(self).__name__, _EXTRA)
        devices = [device.index or 0] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            self._train(torch, device, X, y_enc, weights, train_idx, val_idx)
        return self

    def _tensors(self, torch, X, device):
        mask = presence(X, self.modalities_)
        Z = np.nan_to_num((X - self.mean_) / self.scale_, nan=0.0).astype(np.float32)
        blocks = [
            torch.from_numpy(np.ascontiguousarray(Z[:, c])).to(device)
            for c in self.modalities_.values()
        ]
        return blocks, torch.from_numpy(mask).to(device)

    def _train(self, torch, device, X, y, weights, train_idx, val_idx):
        dims = [len(c) for c in self.modalities_.values()]
        network = _network_class()(
            dims, self.hidden_dim, self.n_heads, len(self.classes_), self.dropout
        ).to(device)
        optimizer = torch.optim.AdamW(
            network.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay
        )
        blocks, mask = self._tensors(torch, X, device)
        target = torch.from_numpy(y.astype(np.int64)).to(device)
        w = torch.from_numpy(weights.astype(np.float32)).to(device)
        loss_fn = torch.nn.CrossEntropyLoss(reduction="none")
        generator = torch.Generator().manual_seed(int(torch.initial_seed()) % (2**31))
        train_t = torch.from_numpy(train_idx)
        val_t = torch.from_numpy(val_idx).to(device)

        def loss_on(idx, train):
            m = mask[idx]
            if train and self.modality_dropout > 0:
                drop = torch.rand(m.shape, device=device) < self.modality_dropout
                kept = m & ~drop
                m = torch.where(kept.any(dim=1, keepdim=True), kept, m)
            logits = network([b[idx] for b in blocks], m)
            losses = loss_fn(logits, target[idx]) * w[idx]
            return losses.sum() / w[idx].sum().clamp_min(1e-12)

        best, best_state, best_epoch, since = np.inf, None, 0, 0
        self.validation_loss_ = []
        epoch = 0
        for epoch in range(1, self.max_epochs + 1):
            network.train()
            order = train_t[torch.randperm(len(train_t), generator=generator)].to(device)
            for start in range(0, len(order), self.batch_size):
                optimizer.zero_grad()
                loss = loss_on(order[start : start + self.batch_size], True)
                loss.backward()
                optimizer.step()
            network.eval()
            with torch.no_grad():
                val_loss = float(loss_on(val_t, False))
            self.validation_loss_.append(val_loss)
            if self.verbose:
                print(f"epoch {epoch}: loss {float(loss):.4f}, validation loss {val_loss:.4f}")
            if val_loss < best - 1e-4:
                best, best_epoch, since = val_loss, epoch, 0
                best_state = copy.deepcopy(network.state_dict())
            else:
                since += 1
                if since >= self.n_iter_no_change:
                    break
        if best_state is not None:
            network.load_state_dict(best_state)
        # Predict in float64 on the CPU: a row's probabilities then do not depend on
        # which other rows share its batch (float32 matmuls differ by ~1e-7).
        self.network_ = network.to("cpu", torch.float64).eval()
        self.n_epochs_ = epoch
        self.best_epoch_ = best_epoch

    def _forward(self, X):
        """One pass of the network: probabilities, attention weights, presence mask."""
        check_is_fitted(self)
        X = validate_features(self, X, reset=False, ensure_all_finite="allow-nan", dtype=np.float32)
        torch = _torch()
        blocks, mask = self._tensors(torch, X, "cpu")
        blocks = [b.double() for b in blocks]
        with torch.inference_mode():
            logits, attention = self.network_(blocks, mask, return_attention=True)
            proba = torch.softmax(logits, dim=1).double().numpy()
        present = mask.numpy()
        # A missing modality's token is left out of the pooling: its row counts for
        # nothing, and the key padding mask has already zeroed its column.
        attention = attention.double().numpy() * present[:, :, None]
        return proba, attention, present

    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            All modalities' features; an all-NaN block is a missing modality.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probability of each class in ``classes_``, per sample.
        """
        proba, _, present = self._forward(X)
        # With every modality masked out the attention has nothing to attend to.
        none = warn_no_modality(self, present, stacklevel=2)
        proba[none] = self.class_prior_
        return proba

    def attention_weights(self, X):
        """How much each modality's token attends to each other's, per sample.

        The weights of the network's attention layer in the very pass that
        :meth:`predict_proba` makes, averaged over the heads.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            All modalities' features; an all-NaN block is a missing modality.

        Returns
        -------
        weights : ndarray of shape (n_samples, n_modalities, n_modalities)
            ``weights[s, i, j]``: the share of modality ``j`` in what modality ``i``
            attends to in sample ``s`` (query ``i``, key ``j``; modalities in the order
            of ``modalities_``). The row of each present modality sums to 1 over the
            present modalities; the row and the column of a missing modality are 0. A
            sample with no modality at all (which gets ``class_prior_``) is all 0.

        Notes
        -----
        Each modality's token after the attention layer is its own token plus the mix
        ``sum_j weights[s, i, j] * value_j`` (then layer-normalised); the classifier head
        reads the mean of the present tokens. So, for a sample with ``n_present > 0``
        modalities, ``weights[s].sum(axis=0) / n_present`` (the mean over the present
        rows, summing to 1) is each modality's share in the attended part of what the
        head reads (a sample with no modality has weights of 0 only, and gets
        ``class_prior_``). It is not the whole story: the residual path carries each
        token past the attention, and the head weighs the features. For how much each
        modality moved the probability, see :func:`~skemotion.modality_attributions`
        and :class:`~skemotion.plots.ModalityAttributionDisplay`.
        """
        _, attention, _ = self._forward(X)
        return attention

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
            All modalities' features; an all-NaN block is a missing modality.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            The most probable class of each sample.
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.non_deterministic = False
        return tags
