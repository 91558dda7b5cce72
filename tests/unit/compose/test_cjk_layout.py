"""Chinese and Japanese creatives: every placement fits, lines obey kinsoku, prices look native."""

import pytest

from shared.compose.fonts import cjk_available
from shared.compose.layouts import build_layout
from shared.compose.text_fit import NO_LINE_END, NO_LINE_START
from shared.events import EVENT_TYPES, CampaignEvent
from shared.personalize import plan_event
from tests.unit.compose.helpers import event_with
from tests.unit.compose.test_layouts import check_layout

pytestmark = pytest.mark.skipif(not cjk_available(), reason="no CJK font (fonts-noto-cjk)")

CASES = {  # locale: (title, currency, price as shoppers there write it)
    "zh-CN": ("【2026新款】男士轻便透气跑步鞋，减震防滑（黑色）！官方正品包邮", "CNY", "¥129.99"),
    "zh-TW": ("「經典款」真皮手提包、大容量，輕便耐用！（附贈防塵袋）", "TWD", "NT$130"),
    "ja-JP": (
        "【送料無料】ランニングシューズ　メンズ（軽量・厚底）「通気性」ブラック！",
        "JPY",
        "￥130",
    ),
}


def _event(ad_type: str, locale: str) -> CampaignEvent:
    title, currency, _ = CASES[locale]
    data = event_with(ad_type, title, "clean", locale).model_dump(mode="json")
    for product in data["products"]:
        product["currency"] = currency
    return CampaignEvent.model_validate(data)


@pytest.mark.parametrize("locale", list(CASES))
@pytest.mark.parametrize("ad_type", EVENT_TYPES)
def test_every_size_fits_and_lines_obey_kinsoku(ad_type: str, locale: str) -> None:
    for creative in plan_event(_event(ad_type, locale)).creatives:
        layout = build_layout(creative)
        check_layout(layout)
        for element in layout.text_elements:
            lines = [line.text for line in element.lines]
            for i, line in enumerate(lines):
                assert i == 0 or line[0] not in NO_LINE_START, (creative.size, lines)
                assert i == len(lines) - 1 or line[-1] not in NO_LINE_END, (creative.size, lines)


@pytest.mark.parametrize("locale", list(CASES))
def test_prices_and_ctas_are_native(locale: str) -> None:
    plan = plan_event(_event("product_display", locale)).creatives[0]
    assert plan.copy.price == CASES[locale][2]
    ctas = {"zh-CN": "立即购买", "zh-TW": "立即購買", "ja-JP": "今すぐ購入"}
    assert plan.copy.cta == ctas[locale]
    assert plan.copy.headline == CASES[locale][0]  # the shop's own title, untranslated
    assert plan.prompts[0].isascii()  # the generator is prompted in English


@pytest.mark.parametrize("style", ["clean", "bold", "seasonal"])
@pytest.mark.parametrize("locale", list(CASES))
def test_a_long_cjk_title_gives_way_to_the_price(style: str, locale: str) -> None:
    """A long CJK headline is ellipsised to fewer lines before the price is dropped: in the bold
    style it used to push the price out of the 1080x1080 and 728x90 creatives."""
    data = _event("product_display", locale).model_dump(mode="json")
    data["creative"]["style"] = style
    for creative in plan_event(CampaignEvent.model_validate(data)).creatives:
        layout = build_layout(creative)
        assert {"headline", "price", "cta"} <= set(layout.kinds), (creative.size, layout.dropped)
