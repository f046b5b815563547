"""Reciprocal rank fusion: pure properties."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from firmscout.embeddings.fusion import reciprocal_rank_fusion

rankings = st.lists(st.lists(st.integers(0, 30), max_size=20, unique=True), min_size=1, max_size=3)


class TestReciprocalRankFusion:
    def test_item_in_both_lists_beats_items_in_one(self) -> None:
        fused = reciprocal_rank_fusion([["a", "b", "c"], ["x", "y", "c"]])
        assert fused[0] == "c"
        assert set(fused) == {"a", "b", "c", "x", "y"}

    def test_scores_follow_the_formula(self) -> None:
        # b: 1/62 + 1/61 beats a: 1/61 alone and x: 1/62 alone; a and x at equal rank... a first (first list).
        assert reciprocal_rank_fusion([["a", "b"], ["b", "x"]]) == ["b", "a", "x"]

    def test_small_k_favours_top_ranks_large_k_agreement(self) -> None:
        # c is 4th in both lists: 2/(k+4) against a's 1/(k+1) at the top of one list.
        lists = [["a", "p", "q", "c"], ["x", "r", "s", "c"]]
        assert reciprocal_rank_fusion(lists, k=1)[:2] == ["a", "x"]
        assert reciprocal_rank_fusion(lists, k=60)[0] == "c"

    def test_ties_alternate_between_lists(self) -> None:
        assert reciprocal_rank_fusion([["a", "b"], ["x", "y"]]) == ["a", "x", "b", "y"]

    @given(rankings)
    def test_single_list_keeps_its_order(self, lists: list[list[int]]) -> None:
        assert reciprocal_rank_fusion(lists[:1]) == lists[0]

    @given(rankings)
    def test_union_without_repeats(self, lists: list[list[int]]) -> None:
        fused = reciprocal_rank_fusion(lists)
        assert sorted(fused) == sorted({i for ranking in lists for i in ranking})

    @given(rankings)
    def test_sorted_by_fused_score_and_list_order_only_breaks_ties(self, lists: list[list[int]]) -> None:
        def score(item: int) -> float:
            return sum(1 / (60 + r.index(item) + 1) for r in lists if item in r)

        forward = reciprocal_rank_fusion(lists)
        backward = reciprocal_rank_fusion(lists[::-1])
        assert [score(i) for i in forward] == sorted((score(i) for i in forward), reverse=True)
        assert [round(score(i), 12) for i in forward] == [round(score(i), 12) for i in backward]

    @given(rankings, st.integers(0, 30))
    def test_promoting_an_item_never_lowers_it(self, lists: list[list[int]], item: int) -> None:
        if item not in lists[0] or lists[0].index(item) == 0:
            return
        before = reciprocal_rank_fusion(lists).index(item)
        promoted = list(lists[0])
        i = promoted.index(item)
        promoted[i - 1], promoted[i] = promoted[i], promoted[i - 1]
        assert reciprocal_rank_fusion([promoted, *lists[1:]]).index(item) <= before

    def test_repeat_within_a_list_counts_once(self) -> None:
        assert reciprocal_rank_fusion([["a", "a", "b"], ["b"]]) == ["b", "a"]
