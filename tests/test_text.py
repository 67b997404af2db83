"""Text for the language models, the language models themselves and sampling."""

import numpy as np
import pytest

from autograd import Tensor, nn, text
from autograd.models import LSTMLanguageModel, TransformerLanguageModel, build_model, generate


def test_vocab_roundtrip_and_unknown_character():
    vocab = text.CharVocab("hello world")
    assert vocab.chars == [" ", "d", "e", "h", "l", "o", "r", "w"] and len(vocab) == 8
    ids = vocab.encode("hold")
    assert ids.dtype == np.int64
    np.testing.assert_array_equal(ids, [3, 5, 4, 1])
    assert vocab.decode(ids) == "hold"
    with pytest.raises(ValueError, match="'z' is not in the vocabulary"):
        vocab.encode("zoo")
    with pytest.raises(ValueError, match="empty"):
        text.CharVocab("")


def test_windows_are_shifted_by_one_and_do_not_overlap():
    ids = np.arange(23)
    x, y = text.windows(ids, 5)
    assert x.shape == y.shape == (4, 5)  # (23 - 1) // 5
    np.testing.assert_array_equal(x[1], [5, 6, 7, 8, 9])
    np.testing.assert_array_equal(y, x + 1)
    with pytest.raises(ValueError, match="holds no window"):
        text.windows(np.arange(5), 5)


def test_split_text_keeps_the_tail_apart():
    head, tail = text.split_text("abcdefghij", 0.3)
    assert (head, tail) == ("abcdefg", "hij")
    assert text.split_text("abc", 0) == ("abc", "")
    with pytest.raises(ValueError, match="fraction"):
        text.split_text("abc", 1.0)


def test_load_text_from_a_file_and_the_shipped_corpus(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("Ça va?\n", encoding="utf-8")
    assert text.load_text(path) == "Ça va?\n"
    assert text.load_text(path, limit=2) == "Ça"
    assert text.load_text(limit=10) == "Persuasion"
    (tmp_path / "bad.txt").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ValueError, match="cannot read"):
        text.load_text(tmp_path / "bad.txt")


@pytest.mark.parametrize("make", [
    lambda: LSTMLanguageModel(7, embed_dim=4, hidden=8),
    lambda: TransformerLanguageModel(7, context=16, d_model=8, num_heads=2, num_layers=1,
                                     ff_dim=16),
])
def test_language_models_give_next_character_logits(make):
    nn.init.seed(0)
    model = make()
    ids = np.random.default_rng(0).integers(0, 7, (3, 10))
    logits = model(Tensor(ids))
    assert logits.shape == (3, 10, 7)
    # Causal: a position's logits do not depend on the characters after it.
    changed = ids.copy()
    changed[:, 6:] = (changed[:, 6:] + 1) % 7
    np.testing.assert_allclose(model(Tensor(changed)).data[:, :6], logits.data[:, :6],
                               rtol=1e-5, atol=1e-6)
    # next_logits, state carried or not, gives the logits of the whole sequence's last step.
    state = None
    for t in range(1, 11):
        last, state = model.next_logits(ids[0, :t], state)
        np.testing.assert_allclose(last, model(Tensor(ids[:1, :t])).data[0, -1],
                                   rtol=1e-5, atol=1e-6)


def test_transformer_refuses_a_sequence_longer_than_its_context():
    model = TransformerLanguageModel(5, context=4, d_model=8, num_heads=2, num_layers=1,
                                     ff_dim=8)
    with pytest.raises(ValueError, match="longer than the context of 4"):
        model(Tensor(np.zeros((1, 5), np.int64)))


def test_generate_and_sample():
    nn.init.seed(0)
    model = LSTMLanguageModel(5, embed_dim=4, hidden=8)
    model.train()
    out = generate(model, np.array([1, 2]), 12, temperature=0.8, rng=np.random.default_rng(0))
    assert out.shape == (12,) and out.dtype == np.int64 and out.min() >= 0 and out.max() < 5
    again = generate(model, np.array([1, 2]), 12, temperature=0.8, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(out, again)
    assert model.training  # the mode is restored
    # Temperature 0 always takes the likeliest character.
    greedy = generate(model, np.array([1]), 3, temperature=0)
    first, _ = model.next_logits(np.array([1]), None)
    assert greedy[0] == np.argmax(first)
    vocab = text.CharVocab("abcde")
    sample = text.sample(model, vocab, "ab", 6, rng=np.random.default_rng(1))
    assert sample.startswith("ab") and len(sample) == 8 and set(sample) <= set("abcde")
    with pytest.raises(ValueError, match="at least one character"):
        generate(model, np.array([], np.int64), 3)


def test_build_model_needs_the_vocabulary_for_language_models():
    with pytest.raises(ValueError, match="needs vocab_size and context"):
        build_model("lstm-lm")
    assert build_model("transformer-lm", vocab_size=9, context=8).context == 8
