"""Per-language tables of the synthetic corpus: eSpeak NG voices, speaker voice variants, neutral sentences."""

from __future__ import annotations

# eSpeak NG voice for each language code of labels.LANGUAGES (extend both tables to add one).
ESPEAK_VOICES: dict[str, str] = {
    "FRE": "fr",
    "ITA": "it",
    "POR": "pt",
    "ROM": "ro",
    "SPA": "es",
    "ARA": "ar",
    "BEN": "bn",
    "CHI": "cmn",
    "ENG": "en",
    "RUS": "ru",
}

# Voice variants used as speakers, male and female alternating.
VARIANTS: tuple[str, ...] = ("m1", "f2", "m3", "f4", "m5", "f1", "m7", "f3", "m2", "f5", "m4", "m6")

# Emotionally neutral sentences; the same eight meanings in every language.
SENTENCES: dict[str, tuple[str, ...]] = {
    "FRE": (
        "Le train part demain matin à huit heures.",
        "La salle de réunion est au deuxième étage.",
        "Elle a posé les clés sur la table de la cuisine.",
        "Nous lirons le rapport cet après-midi.",
        "Le magasin ferme à sept heures du soir.",
        "Mon frère a acheté un nouveau vélo bleu.",
        "La lettre est arrivée mardi.",
        "Il y a douze chaises dans la salle de classe.",
    ),
    "ITA": (
        "Il treno parte domani mattina alle otto.",
        "La sala riunioni è al secondo piano.",
        "Lei ha messo le chiavi sul tavolo della cucina.",
        "Leggeremo il rapporto questo pomeriggio.",
        "Il negozio chiude alle sette di sera.",
        "Mio fratello ha comprato una nuova bicicletta blu.",
        "La lettera è arrivata martedì.",
        "Ci sono dodici sedie nell'aula.",
    ),
    "POR": (
        "O comboio parte amanhã de manhã às oito horas.",
        "A sala de reuniões fica no segundo andar.",
        "Ela pôs as chaves na mesa da cozinha.",
        "Vamos ler o relatório esta tarde.",
        "A loja fecha às sete horas da noite.",
        "O meu irmão comprou uma bicicleta azul nova.",
        "A carta chegou na terça-feira.",
        "Há doze cadeiras na sala de aula.",
    ),
    "ROM": (
        "Trenul pleacă mâine dimineață la ora opt.",
        "Sala de ședințe este la etajul doi.",
        "Ea a pus cheile pe masa din bucătărie.",
        "Vom citi raportul în după-amiaza aceasta.",
        "Magazinul se închide la ora șapte seara.",
        "Fratele meu și-a cumpărat o bicicletă nouă albastră.",
        "Scrisoarea a sosit marți.",
        "Sunt douăsprezece scaune în sala de clasă.",
    ),
    "SPA": (
        "El tren sale mañana por la mañana a las ocho.",
        "La sala de reuniones está en el segundo piso.",
        "Ella dejó las llaves en la mesa de la cocina.",
        "Leeremos el informe esta tarde.",
        "La tienda cierra a las siete de la tarde.",
        "Mi hermano compró una bicicleta azul nueva.",
        "La carta llegó el martes.",
        "Hay doce sillas en el aula.",
    ),
    "ARA": (
        "القطار يغادر غدا صباحا في الساعة الثامنة.",
        "قاعة الاجتماعات في الطابق الثاني.",
        "وضعت المفاتيح على طاولة المطبخ.",
        "سنقرأ التقرير بعد الظهر.",
        "يغلق المتجر في الساعة السابعة مساء.",
        "اشترى أخي دراجة زرقاء جديدة.",
        "وصلت الرسالة يوم الثلاثاء.",
        "يوجد اثنا عشر كرسيا في الفصل.",
    ),
    "BEN": (
        "ট্রেনটি আগামীকাল সকাল আটটায় ছাড়বে।",
        "সভাকক্ষটি দোতলায়।",
        "সে চাবিগুলো রান্নাঘরের টেবিলে রেখেছে।",
        "আমরা আজ বিকেলে প্রতিবেদনটি পড়ব।",
        "দোকানটি সন্ধ্যা সাতটায় বন্ধ হয়।",
        "আমার ভাই একটি নতুন নীল সাইকেল কিনেছে।",
        "চিঠিটি মঙ্গলবার এসেছে।",
        "শ্রেণিকক্ষে বারোটি চেয়ার আছে।",
    ),
    "CHI": (
        "火车明天早上八点出发。",
        "会议室在二楼。",
        "她把钥匙放在厨房的桌子上。",
        "我们今天下午读这份报告。",
        "商店晚上七点关门。",
        "我哥哥买了一辆新的蓝色自行车。",
        "信是星期二到的。",
        "教室里有十二把椅子。",
    ),
    "ENG": (
        "The train leaves tomorrow morning at eight.",
        "The meeting room is on the second floor.",
        "She put the keys on the kitchen table.",
        "We will read the report this afternoon.",
        "The shop closes at seven in the evening.",
        "My brother bought a new blue bicycle.",
        "The letter arrived on Tuesday.",
        "There are twelve chairs in the classroom.",
    ),
    "RUS": (
        "Поезд отправляется завтра в восемь утра.",
        "Переговорная находится на втором этаже.",
        "Она положила ключи на кухонный стол.",
        "Мы прочитаем отчёт сегодня днём.",
        "Магазин закрывается в семь часов вечера.",
        "Мой брат купил новый синий велосипед.",
        "Письмо пришло во вторник.",
        "В классе двенадцать стульев.",
    ),
}
