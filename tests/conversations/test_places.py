"""The place a citizen names in a problem sentence, in every language variety, returned as they wrote it;
and no place where the sentence names none, since a wrong place misroutes a complaint while a missing
one only costs a question."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conversations.understanding.places import place_in

FR = [
    ("Les poubelles débordent rue Ibn Sina depuis cinq jours", "rue Ibn Sina"),
    ("Les sacs poubelles s'entassent rue Allal Ben Abdellah et personne ne ramasse depuis mardi",
     "rue Allal Ben Abdellah"),
    # A second article after the name starts a new noun phrase, here a time: "la nuit derniere" is cut off.
    ("bjr des ouvriers ont deversé du ciment et des briques cassées au bd Anfa la nuit derniere", "bd Anfa"),
    ("une odeur de pourriture sort du conteneur à côté de la boulangerie, c'est irrespirable",
     "à côté de la boulangerie"),
    ("Un énorme trou au milieu de la rue 12, une moto est déjà tombée dedans hier soir.", "rue 12"),
    ("lampadaire cassé devant chez moi n°45 rue des Lilas", "rue des Lilas"),
    ("La bouche d'égout devant la mosquée est ouverte sans couvercle", "devant la mosquée"),
    ("les chiens errants se regroupent près de la décharge au quartier Maarif", "près de la décharge"),
    ("Des fils électriques pendent du poteau au quartier Agdal dpuis cinq jours", "quartier Agdal"),
    ("coupure d'eau place du Marché depuis hier", "place du Marché"),
    ("fuite d'eau avenue Mohammed V, c'est urgent", "avenue Mohammed V"),
    ("nid de poule en face de l'hôpital Ibn Rochd", "en face de l'hôpital Ibn Rochd"),
    ("accident route de Rabat au km 5", "route de Rabat"),
    ("y a des ordures partout au coin de la rue des Orangers", "au coin de la rue des Orangers"),
    ("svp av hassan ii, la bouche d'égout est ouverte", "av hassan ii"),
    ("il y a des poubelles partout", ""),
    # "place" is a square only before a capitalised name or "du"/"de la": here it is room, not a square.
    ("il n'y a plus de place au marché", ""),
    ("à la place de la benne ils ont mis un carton", ""),
    ("la rue est inondée à chaque pluie. svp faites quelque chose", ""),
    ("pas de lumiere dans la rue depuis 10 jours", ""),
    ("Une decharge sauvage s'est formee ds notre quartier", ""),
    ("Les lampadaires sont eteints devant chez moi depuis une semaine", ""),
]

EN = [
    # English puts the name before the street word.
    ("street light broken on Hassan II avenue for a week", "Hassan II avenue"),
    ("the garbage truck doesnt come anymore on ibn sina st", "ibn sina st"),
    ("the bins were emptied this morning at the corner of palm street", "at the corner of palm street"),
    ("near the bus station theres an illegal construction for two weeks now", "near the bus station"),
    ("lamp post broken outside number 45 Lilac street", "45 Lilac street"),
    ("Huge pothole in the middle of street 12, a motorbike fell in it last night.", "street 12"),
    ("The manhole in front of the mosque has no cover, a child nearly fell in.", "in front of the mosque"),
    ("Stray dogs attacked a child in hay Salam!!", "hay Salam"),
    ("The noise from the cafes is unbearable at night opposite the high school", "opposite the high school"),
    ("trash piling up next to Bab Doukkala since Monday", "next to Bab Doukkala"),
    ("Palm Street is flooded again", "Palm Street"),
    ("potholes everywhere near 5th avenue", "near 5th avenue"),
    ("the water is cut since yesterday", ""),
    ("every time it rains our street turns into a river, drains are clogged", ""),
    ("Hello there, the street lights are off since the start of the month", ""),
    ("Broken street light in front", ""),
    ("the opposite is true", ""),
    ("Salam at the Sunday souk the stalls take up the whole road. pls help", ""),
    ("Hi, the road works left a hole open", ""),
]

AR = [
    ("الإنارة مقطوعة في حي السلام منذ شهر", "حي السلام"),
    # A number stops a place; the next street word, glued to "ب", starts another one.
    ("عمود الإنارة مكسور أمام المنزل رقم 45 بزنقة الليمون", "أمام المنزل رقم 45"),
    ("ورش بناء بدون لافتة الترخيص بحي الأندلس", "حي الأندلس"),
    ("الماء مقطوع في شارع الجيش الملكي منذ أكثر من أسبوعين", "شارع الجيش الملكي"),
    ("يتم حرق النفايات خلف محطة الحافلات", "خلف محطة الحافلات"),
    ("الحديقة العمومية مهملة في الشارع رقم 10 منذ مدة طويلة", "الشارع رقم 10"),
    ("نرجو تنظيف قنوات الصرف قبل الشتاء بالقرب من السوق المركزي", "بالقرب من السوق المركزي"),
    ("الطاولات تغلق الطريق في شارع محمد الخامس منذ ثلاثة أيام", "شارع محمد الخامس"),
    ("الماء مقطوع في شارع عبد الله بن ياسين", "شارع عبد الله بن ياسين"),
    ("شاحنة جمع النفايات لم تعد تمر في الشارع الرئيسي منذ عيد الأضحى", "الشارع الرئيسي"),
    ("عندنا مشكل فالماء", ""),
    ("الحيوانات الضالة كثيرة", ""),
    ("الحياة صعبة في الحي", ""),
    ("الحديقة الوحيدة في الحي تحولت إلى مزبلة", ""),
    ("تواصلت معكم عن طريق الهاتف", ""),
    ("عند الاتصال بكم لا أحد يجيب", ""),
    ("الأشجار لا تسقى أمام منزلي منذ خمسة أيام", ""),
]

DARIJA_LATIN = [
    ("kayn zbel bzaf f derb dyalna", "derb dyalna"),
    ("salam kaynin lkhyout dyel dow mdlyin f hay nahda", "hay nahda"),
    ("mola7ada: sawbo tri9 walakin bla khtout f douar l3askar", "douar l3askar"),
    ("kayna 7ofra kbira f triq gdam jame3 hadi 5 ayam", "gdam jame3"),
    ("salam la7dt bli ljarda 3amra nhar l7ed f lparc li 7da lbosta", "7da lbosta"),
    ("lpoteau 9dam dar ra9m 23 m7er9", "9dam dar ra9m 23"),
    ("salam khouya f rue 12 ri7a khayba dyal zbel", "rue 12"),
    ("salam f hay mohammadi lkrarss saddin triq", "hay mohammadi"),
    ("lma ma9tou3 f derb sidi ahmed mnd lbar7", "derb sidi ahmed"),
    ("f zan9a sidi ahmed kayn tasrib dyal lma", "zan9a sidi ahmed"),
    ("zbel bzaf qrib mn lmdrasa", "qrib mn lmdrasa"),
    ("klab zen9a wlaw bzaf kayn9bho lil kaml", ""),
    ("kol mra katchta zen9a katghre9 mn sbt li fat", ""),
    ("salam khoya f ras derb jarna kaybni tab9a bla rokhsa", ""),
    ("lma ma9tou3 hadi 3 ayam", ""),
]

DARIJA_ARABIC = [
    ("الطروطوار مهرس فالدرب ديالنا من العيد", "الدرب ديالنا"),
    ("البالوعة محلولة بلا غطا فالحي المحمدي", "الحي المحمدي"),
    ("البالوعة محلولة ف الحي المحمدي", "الحي المحمدي"),
    ("كاينة واحد الحفرة كبيرة فزنقة 12 وواحد الموطور طاح فيها البارح", "زنقة 12"),
    ("البوطو ديال الضو طايح حدا المدرسة", "حدا المدرسة"),
    ("عافاك فدوار العسكر القهوة خدات الطروطوار كامل", "دوار العسكر"),
    ("شي ناس كيلوحو الردم فحي النهضة", "حي النهضة"),
    ("السلام خويا السوق موسخ بزاف قدام الجامع", "قدام الجامع"),
    ("علاش ما تزيدو البركاصات حدا لاراي ديال الطوبيس", "حدا لاراي ديال الطوبيس"),
    # After the definite noun comes the next subject ("the vendors took everything"), not more place.
    ("ما يمكنش تمشي فالطروطوار حدا السوق الفراشة خداو كلشي", "حدا السوق"),
    ("البوطو قدام الدار رقم 23 محروق", "قدام الدار رقم 23"),
    ("كلاب الزنقة ولاو بزاف كينبحو الليل كامل", ""),
    ("كل مرة كتشتا الزنقة كتغرق", ""),
    ("السلام خويا فراس الدرب البوطو ديال الضو طايح", ""),
    ("الجردة الوحيدة اللي فالحومة ولات مزبلة", ""),
]

EGYPTIAN = [
    ("الزبالة متكومة قدام المدرسة بقالها أسبوع", "قدام المدرسة"),
    ("في كلب ميت جنب الترعة بقاله ٣ أيام والريحة وحشة جدا", "جنب الترعة"),
    ("بعد إذنكم الرصيف مكسر كله ورا السوق", "ورا السوق"),
    ("عمود النور واقع عند محطة المترو", "عند محطة المترو"),
    ("اللمبة بتاعة العمود محروقة في شارع التسعين", "شارع التسعين"),
    ("حفرة كبيرة في نص شارع ١٢ وموتوسيكل وقع فيها امبارح", "شارع ١٢"),
    ("المجاري طافحة في عزبة النخل من يومين", "عزبة النخل"),
    ("الزحمة فظيعة عند تقاطع شارع فيصل مع الهرم", "عند تقاطع شارع فيصل"),
    ("السلام عليكم في ميدان رمسيس الزحمة فظيعة", "ميدان رمسيس"),
    ("على ناصية شارع فيصل في زبالة", "ناصية شارع فيصل"),
    ("الشارع ضلمة خالص بالليل عند الكوبري", "عند الكوبري"),
    ("مفيش نور في الشارع من ١٠ أيام والسرقة بدأت", ""),
    ("الشارع كله ضلمة بقاله أسبوع والستات بتخاف ترجع بالليل", ""),
    ("في الحارة عندنا ريحة المجاري خانقة من امبارح", ""),
    ("المية مقطوعة كلمنا الحي كذا مرة ومفيش فايدة", ""),
    ("عمارة مهجورة على الناصية بقت مكان للمدمنين", ""),
]

AS_WRITTEN = [
    # Accents, capitals, diacritics, tatweel and Arabic-Indic digits are the citizen's and stay.
    ("PROBLÈME d'éclairage Rue Émile Zola depuis lundi", "Rue Émile Zola"),
    ("الإنارةُ مقطوعةٌ في حيِّ السّلامِ منذ شهر", "حيِّ السّلامِ"),
    ("الزبالة كتير في شـــارع ابن سينا", "شـــارع ابن سينا"),
    ("عمود مكسور قدام بيت رقم ٤٥ في المعادي", "قدام بيت رقم ٤٥"),
    ("  rue 12  ", "rue 12"),
    ("Rue 5\nDepuis hier", "Rue 5"),
    ("salam", ""),
    ("", ""),
]

ROWS = [
    *[pytest.param(text, place, id=f"fr-{n}") for n, (text, place) in enumerate(FR)],
    *[pytest.param(text, place, id=f"en-{n}") for n, (text, place) in enumerate(EN)],
    *[pytest.param(text, place, id=f"ar-{n}") for n, (text, place) in enumerate(AR)],
    *[pytest.param(text, place, id=f"darija_latin-{n}") for n, (text, place) in enumerate(DARIJA_LATIN)],
    *[pytest.param(text, place, id=f"darija_ar-{n}") for n, (text, place) in enumerate(DARIJA_ARABIC)],
    *[pytest.param(text, place, id=f"egyptian-{n}") for n, (text, place) in enumerate(EGYPTIAN)],
    *[pytest.param(text, place, id=f"as-written-{n}") for n, (text, place) in enumerate(AS_WRITTEN)],
]


@pytest.mark.parametrize(("text", "place"), ROWS)
def test_the_place_a_sentence_names(text: str, place: str) -> None:
    assert place_in(text) == place


def test_ten_thousand_characters_of_noise_do_not_stall_the_reader() -> None:
    """A guard against runaway backtracking (milliseconds expected; a second means a hang). The time
    a message takes is printed by `bench/understanding.py`."""
    words = ["rue", "hay", "street", "near", "the", "قدام", "حي", "شارع", "في", "la", "de", "place", "st", "derb",
             "ـ", "،", "\n", "Ibn", "12", "السلام", "avenue"]
    noise = " ".join(words[(n * 7) % len(words)] for n in range(2000))[:10_000]
    started = time.perf_counter()
    found = place_in(noise)
    assert time.perf_counter() - started < 1.0
    assert found in noise


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_text_gives_a_part_of_itself(text: str) -> None:
    assert place_in(text) in text


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["rue", "Rue", "bd.", "place", "du", "de la", "près de", "street", "St", "on",
                                 "near", "the", "f", "derb", "dyalna", "9dam", "حي", "بحي", "الحي", "قدام",
                                 "عند", "رقم", "12", "١٢", "ـ", "ّ", "،", ".", "\n", "Ibn", "السلام", "depuis"]),
                max_size=30).map(" ".join))
def test_marker_soup_gives_a_part_of_itself(text: str) -> None:
    assert place_in(text) in text
