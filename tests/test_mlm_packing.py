"""Packing sentences into rows with a block-diagonal attention mask (lib.science.mlm): the model sees each sentence
exactly as it would alone, and the masked-LM loss is the loss of the unpacked batch."""

import numpy as np
import pytest
import torch

from lib.science.mlm import masked_lm_loss, pack, pack_batch, parse_shape, select

PAD, CLS, SEP, MASK, VOCAB = 0, 101, 102, 103, 500


def sentences_batch(lengths, seed=0):
    """A padded batch ``(ids, mask)`` of sentences ``[CLS] ... [SEP]`` of the given lengths."""
    gen = torch.Generator().manual_seed(seed)
    width = max(lengths)
    ids = torch.full((len(lengths), width), PAD)
    mask = torch.zeros((len(lengths), width), dtype=torch.long)
    for i, n in enumerate(lengths):
        ids[i, :n] = torch.randint(110, VOCAB, (n,), generator=gen)
        ids[i, 0], ids[i, n - 1] = CLS, SEP
        mask[i, :n] = 1
    return ids, mask


def bert(attention="sdpa", layers="L2-H32-A4-I64", seed=0):
    from transformers import BertConfig, BertForMaskedLM

    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=VOCAB,
        max_position_embeddings=64,
        hidden_dropout_prob=0,
        attention_probs_dropout_prob=0,
        **parse_shape(layers),
    )
    config._attn_implementation = attention
    return BertForMaskedLM(config).eval()


def test_pack_places_every_sentence_once_within_the_row_length():
    rng = np.random.default_rng(0)
    lengths = rng.integers(3, 65, 500)
    rows = pack(lengths, 128)
    placed = np.concatenate(rows)
    assert sorted(placed.tolist()) == list(range(len(lengths)))
    assert all(lengths[r].sum() <= 128 for r in rows)
    assert all(np.all(np.diff(r) > 0) for r in rows)  # each row's sentences in index order
    assert len(rows) <= int(np.ceil(lengths.sum() / 128 * 1.05)) + 1  # nearly no room left over
    assert [r.tolist() for r in rows] == [r.tolist() for r in pack(lengths, 128)]  # deterministic
    assert pack([], 128) == []
    assert [r.tolist() for r in pack([128, 1, 127], 128)] == [[0], [1, 2]]
    with pytest.raises(ValueError, match="1..128"):
        pack([129], 128)


def test_packed_layout_keeps_each_sentence_whole_with_its_own_positions():
    ids, mask = sentences_batch([5, 9, 3, 12, 7, 2])
    packed = pack_batch(ids, mask, 16, PAD)
    assert packed.input_ids.shape[1] == 16
    for s, n in enumerate(mask.sum(1).tolist()):
        row, col = torch.nonzero(packed.segments == s, as_tuple=True)
        assert len(set(row.tolist())) == 1 and torch.equal(col, torch.arange(col[0], col[0] + n))  # contiguous
        assert torch.equal(packed.input_ids[row, col], ids[s, :n])  # its own [CLS] ... [SEP]
        assert torch.equal(packed.position_ids[row, col], torch.arange(n))  # positions from 0
    assert torch.all(packed.input_ids[packed.segments < 0] == PAD)
    assert int(packed.real.sum()) == int(mask.sum())
    assert torch.equal(packed.scatter(packed.gather(ids)), ids * mask)  # gather / scatter are inverse


def test_no_attention_crosses_sentences():
    ids, mask = sentences_batch([5, 9, 3, 12, 7, 2])
    packed = pack_batch(ids, mask, 16, PAD)
    allowed = packed.attention_mask()[:, 0]
    seg = packed.segments
    for r in range(seg.shape[0]):
        for q in range(seg.shape[1]):
            for k in range(seg.shape[1]):
                expected = bool(seg[r, q] == seg[r, k] and seg[r, k] >= 0) or q == k
                assert bool(allowed[r, q, k]) == expected
    additive = packed.attention_mask(torch.float32)
    assert torch.equal(additive == 0, packed.attention_mask())
    # and in the model: changing one sentence changes no other sentence's hidden states
    model = bert()
    other = ids.clone()
    other[1, 1:8] = torch.arange(200, 207)
    with torch.inference_mode():
        a = model.bert(
            input_ids=packed.input_ids, attention_mask=packed.mask_for(model), position_ids=packed.position_ids
        ).last_hidden_state
        b = model.bert(
            input_ids=packed.gather(other, PAD), attention_mask=packed.mask_for(model), position_ids=packed.position_ids
        ).last_hidden_state
    changed = (a - b).abs().amax(-1) > 0
    assert torch.equal(changed & (packed.segments >= 0), packed.segments == 1)


@pytest.mark.parametrize("attention", ["sdpa", "eager", "srl_eager"])
def test_a_packed_forward_gives_each_sentence_its_hidden_states_alone(attention):
    from lib.science import dropout

    lengths = [5, 9, 3, 12, 7, 2, 16, 4]
    ids, mask = sentences_batch(lengths, seed=1)
    model = bert("sdpa" if attention == "srl_eager" else attention)
    if attention == "srl_eager":  # the engine's attention on the CPU (eval: no dropout)
        dropout.install(model, dropout.MaskSource(0)).eval()
    packed = pack_batch(ids, mask, 20, PAD)
    assert packed.input_ids.shape[0] < len(lengths)
    with torch.inference_mode():
        states = model.bert(
            input_ids=packed.input_ids, attention_mask=packed.mask_for(model), position_ids=packed.position_ids
        ).last_hidden_state
        unpacked = packed.scatter(states)
        for s, n in enumerate(lengths):
            alone = model.bert(input_ids=ids[s : s + 1, :n]).last_hidden_state[0]
            assert torch.allclose(unpacked[s, :n], alone, atol=1e-5), (s, float((unpacked[s, :n] - alone).abs().max()))


def test_the_masked_lm_loss_of_a_packed_batch_is_the_loss_of_the_sentences():
    lengths = [5, 9, 3, 12, 7, 2, 16, 4, 11, 6]
    ids, mask = sentences_batch(lengths, seed=2)
    special = torch.tensor([PAD, CLS, SEP, MASK])
    inputs, selected, labels = select(ids, mask, special, VOCAB, MASK, 0.3, torch.Generator().manual_seed(3))
    model = bert(layers="L3-H48-A4-I96")
    loss, right = masked_lm_loss(model, inputs, mask, selected, labels)  # unpacked, padded
    loss.backward()
    grads = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()

    packed = pack_batch(ids, mask, 24, PAD)
    p_inputs, p_selected = packed.gather(inputs, PAD), packed.gather(selected, False)
    p_labels = packed.gather(ids)[p_selected]  # the same selected tokens, in the packed order
    p_loss, p_right = masked_lm_loss(
        model, p_inputs, packed.mask_for(model), p_selected, p_labels, position_ids=packed.position_ids
    )
    p_loss.backward()
    assert float(p_loss.detach()) == pytest.approx(float(loss.detach()), abs=1e-5) and int(p_right) == int(right)
    assert all(torch.allclose(a, p.grad, atol=1e-5) for a, p in zip(grads, model.parameters()))


def test_selection_on_a_packed_batch_takes_real_tokens_only():
    ids, mask = sentences_batch([5, 9, 3, 12, 7, 2])
    packed = pack_batch(ids, mask, 16, PAD)
    special = torch.tensor([PAD, CLS, SEP, MASK])
    _, selected, labels = select(
        packed.input_ids, packed.real, special, VOCAB, MASK, 0.5, torch.Generator().manual_seed(0)
    )
    assert selected.any() and not selected[packed.segments < 0].any()
    assert not torch.isin(labels, special).any()


@pytest.mark.parametrize("attention", ["sdpa", "eager"])
@pytest.mark.parametrize("packed", [False, True])
def test_the_last_layer_at_the_selected_positions_only_gives_the_full_forward_there(attention, packed, monkeypatch):
    from lib.science.mlm import selected_hidden_states

    ids, mask = sentences_batch([5, 9, 3, 12, 7, 2, 16, 4], seed=4)
    model = bert(attention, layers="L3-H48-A4-I96")
    special = torch.tensor([PAD, CLS, SEP, MASK])
    if packed:
        layout = pack_batch(ids, mask, 24, PAD)
        ids, real, attention_mask, positions = (
            layout.input_ids,
            layout.real,
            layout.mask_for(model),
            layout.position_ids,
        )
    else:
        real, attention_mask, positions = mask, mask, None
    _, selected, _ = select(ids, real, special, VOCAB, MASK, 0.3, torch.Generator().manual_seed(5))
    with torch.inference_mode():
        full = model.bert(input_ids=ids, attention_mask=attention_mask, position_ids=positions).last_hidden_state
        monkeypatch.setattr(type(model.bert), "forward", lambda *a, **k: pytest.fail("the full forward ran"))
        ours = selected_hidden_states(model.bert, ids, attention_mask, selected, positions)
    assert ours.shape == (int(selected.sum()), 48)
    assert torch.allclose(ours, full[selected], atol=1e-5)
