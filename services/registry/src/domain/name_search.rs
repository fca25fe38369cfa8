//! Finding residents by name the way Chinese front-desk staff type it: by characters
//! (`张`), by pinyin initials (`zs`) or by full pinyin, whole or begun (`zhang`,
//! `zhangsan`). Each name is stored with its search keys; a query is turned into the
//! match it asks for.
//!
//! A surname is read as a surname, not as the word its character usually spells: 曾 is
//! zeng (not ceng), 单 shan, 区 ou, 尉迟 yuchi. Where people read a surname two ways (盖 ge
//! or gai, 乐 yue or le) both are keys, and a name that may begin with a two-character
//! surname (单于, or 单 followed by 于) is indexed both ways. ü is typed `v` on Chinese
//! keyboards, `u` by many and `yu` on passports (LYU), so 吕 is found by `lv`, `lu` and `lyu`.

use pinyin::ToPinyin;

/// Which rule computed a row's keys. Rows indexed by an earlier rule are indexed again
/// when the registry starts; raise this whenever [`name_keys`] changes what it returns.
pub const NAME_KEYS_VERSION: i16 = 1;

/// At most this many full-pinyin keys (and as many initials) per name: a long name of
/// many ü syllables would otherwise multiply without need.
const MAX_KEYS: usize = 64;

/// Two-character surnames and their readings.
const COMPOUND_SURNAMES: &[(&str, [&str; 2])] = &[
    ("欧阳", ["ou", "yang"]),
    ("司马", ["si", "ma"]),
    ("诸葛", ["zhu", "ge"]),
    ("上官", ["shang", "guan"]),
    ("尉迟", ["yu", "chi"]),
    ("东方", ["dong", "fang"]),
    ("皇甫", ["huang", "fu"]),
    ("公孙", ["gong", "sun"]),
    ("慕容", ["mu", "rong"]),
    ("令狐", ["ling", "hu"]),
    ("司徒", ["si", "tu"]),
    ("夏侯", ["xia", "hou"]),
    ("长孙", ["zhang", "sun"]),
    ("宇文", ["yu", "wen"]),
    ("万俟", ["mo", "qi"]),
    ("单于", ["chan", "yu"]),
    ("澹台", ["tan", "tai"]),
    ("呼延", ["hu", "yan"]),
    ("端木", ["duan", "mu"]),
    ("轩辕", ["xuan", "yuan"]),
    ("南宫", ["nan", "gong"]),
    ("西门", ["xi", "men"]),
    ("独孤", ["du", "gu"]),
    ("申屠", ["shen", "tu"]),
    ("太史", ["tai", "shi"]),
    ("公冶", ["gong", "ye"]),
    ("赫连", ["he", "lian"]),
    ("宗政", ["zong", "zheng"]),
    ("濮阳", ["pu", "yang"]),
    ("淳于", ["chun", "yu"]),
    ("钟离", ["zhong", "li"]),
    ("闻人", ["wen", "ren"]),
    ("司空", ["si", "kong"]),
    ("百里", ["bai", "li"]),
    ("第五", ["di", "wu"]),
    ("拓跋", ["tuo", "ba"]),
    ("段干", ["duan", "gan"]),
    ("公羊", ["gong", "yang"]),
    ("仲孙", ["zhong", "sun"]),
    ("乐正", ["yue", "zheng"]),
    ("东郭", ["dong", "guo"]),
    ("左丘", ["zuo", "qiu"]),
    ("羊舌", ["yang", "she"]),
    ("梁丘", ["liang", "qiu"]),
    ("谷梁", ["gu", "liang"]),
    ("亓官", ["qi", "guan"]),
    ("壤驷", ["rang", "si"]),
    ("巫马", ["wu", "ma"]),
    ("漆雕", ["qi", "diao"]),
    ("鲜于", ["xian", "yu"]),
    ("闾丘", ["lü", "qiu"]),
    ("公西", ["gong", "xi"]),
    ("颛孙", ["zhuan", "sun"]),
    ("子车", ["zi", "ju"]),
    ("东门", ["dong", "men"]),
    ("南门", ["nan", "men"]),
    ("微生", ["wei", "sheng"]),
    ("公良", ["gong", "liang"]),
    ("太叔", ["tai", "shu"]),
    ("司寇", ["si", "kou"]),
    ("宰父", ["zai", "fu"]),
    ("夹谷", ["jia", "gu"]),
    ("褚师", ["chu", "shi"]),
    ("达奚", ["da", "xi"]),
    ("即墨", ["ji", "mo"]),
    ("公仪", ["gong", "yi"]),
];

/// Surnames whose reading as a surname is not the character's usual one, or that people
/// read two ways (the usual surname reading first).
const SURNAMES: &[(char, &[&str])] = &[
    ('曾', &["zeng"]),
    ('单', &["shan"]),
    ('区', &["ou"]),
    ('仇', &["qiu"]),
    ('解', &["xie"]),
    ('查', &["zha"]),
    ('朴', &["piao"]),
    ('盖', &["ge", "gai"]),
    ('乐', &["yue", "le"]),
    ('尉', &["wei"]),
    ('覃', &["qin", "tan"]),
    ('召', &["shao"]),
    ('缪', &["miao"]),
    ('繁', &["po"]),
    ('员', &["yun"]),
    ('种', &["chong"]),
    ('秘', &["bi"]),
    ('句', &["gou"]),
    ('翟', &["zhai", "di"]),
    ('牟', &["mou", "mu"]),
    ('宓', &["mi", "fu"]),
    ('洗', &["xian"]),
    ('都', &["du"]),
    ('阚', &["kan"]),
    ('隗', &["wei", "kui"]),
    ('能', &["nai"]),
    ('佴', &["nai"]),
    ('藏', &["zang"]),
    ('薄', &["bo"]),
    ('重', &["chong"]),
    ('角', &["jue"]),
    ('粘', &["nian"]),
    ('祭', &["zhai"]),
    ('折', &["she"]),
    ('柏', &["bai", "bo"]),
    ('谌', &["chen", "shen"]),
    ('莘', &["shen", "xin"]),
    ('郇', &["xun", "huan"]),
    ('贲', &["ben", "bi"]),
    ('便', &["pian"]),
    ('长', &["chang"]),
    ('黑', &["hei", "he"]),
    ('蕃', &["pi", "fan"]),
    ('那', &["na", "nuo"]),
    ('燕', &["yan"]),
    ('相', &["xiang"]),
    ('行', &["xing", "hang"]),
    ('曲', &["qu"]),
    ('华', &["hua"]),
    ('任', &["ren"]),
    ('沈', &["shen"]),
    ('石', &["shi"]),
    ('叶', &["ye"]),
    ('纪', &["ji"]),
    ('卜', &["bu"]),
    ('宿', &["su"]),
    ('万', &["wan"]),
    ('冼', &["xian"]),
];

/// One piece of a name: a Chinese character with its readings (the usual first), or a
/// word in Latin letters or digits, lower-cased.
enum Part {
    Han(Vec<String>),
    Word(String),
}

/// The search keys of a name: every full pinyin without tones or spaces (`zhangsan`) and
/// every string of initials (`zs`) it may be typed as, the usual reading first. Letters
/// and digits outside Chinese characters are kept as they are, lower-cased, so `Tom 李`
/// gives `tomli` and `tl`.
pub fn name_keys(name: &str) -> Vec<String> {
    let (mut full, mut initials) = (Vec::new(), Vec::new());
    for surname in surname_readings(name) {
        let parts = parts(name, &surname);
        combine(&parts, |reading| reading.to_owned(), &mut full);
        combine(&parts, first_letter, &mut initials);
    }
    full.extend(initials);
    let mut seen = std::collections::HashSet::new();
    full.retain(|key| !key.is_empty() && seen.insert(key.clone()));
    full
}

/// The ways the leading characters of `name` may be read as a surname: the readings of
/// each leading character read as one. A name beginning with a two-character surname is
/// also read as a one-character surname and a given name (单于明 may be 单 with 于明);
/// an empty list reads the characters as usual.
fn surname_readings(name: &str) -> Vec<Vec<Vec<&'static str>>> {
    let mut readings = Vec::new();
    if let Some((_, pair)) = COMPOUND_SURNAMES
        .iter()
        .find(|(surname, _)| name.starts_with(surname))
    {
        readings.push(pair.iter().map(|reading| vec![*reading]).collect());
    }
    let first = name.chars().next();
    match SURNAMES.iter().find(|(ch, _)| Some(*ch) == first) {
        Some((_, alternatives)) => readings.push(vec![alternatives.to_vec()]),
        None => readings.push(Vec::new()),
    }
    readings
}

/// `name` in parts, its leading characters read as `surname` gives.
fn parts(name: &str, surname: &[Vec<&'static str>]) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut word: Option<String> = None;
    for (position, (ch, reading)) in name.chars().zip(name.to_pinyin()).enumerate() {
        match reading {
            Some(reading) => {
                parts.extend(word.take().map(Part::Word));
                let readings = match surname.get(position) {
                    Some(alternatives) => alternatives.clone(),
                    None => vec![reading.plain()],
                };
                parts.push(Part::Han(
                    readings.into_iter().flat_map(typed_forms).collect(),
                ));
            }
            None if ch.is_alphanumeric() => {
                word.get_or_insert_with(String::new)
                    .extend(ch.to_lowercase());
            }
            None => parts.extend(word.take().map(Part::Word)),
        }
    }
    parts.extend(word.take().map(Part::Word));
    parts
}

/// The ways a syllable is typed: as written, and with ü as `v`, as `u` and, after l and
/// n, as `yu` (the passport's spelling).
fn typed_forms(reading: &str) -> Vec<String> {
    if !reading.contains('ü') {
        return vec![reading.to_owned()];
    }
    let mut forms = vec![reading.replace('ü', "v"), reading.replace('ü', "u")];
    if reading.starts_with(['l', 'n']) {
        forms.push(reading.replace('ü', "yu"));
    }
    forms
}

/// Appends every concatenation of one form per part (`form` of each character's reading,
/// a word as it is for full pinyin or its first letter for initials), up to [`MAX_KEYS`].
fn combine(parts: &[Part], form: impl Fn(&str) -> String, keys: &mut Vec<String>) {
    let mut built = vec![String::new()];
    for part in parts {
        let forms: Vec<String> = match part {
            Part::Han(readings) => readings.iter().map(|reading| form(reading)).collect(),
            Part::Word(word) => vec![form(word)],
        };
        let mut forms_seen = std::collections::HashSet::new();
        let forms: Vec<String> = forms
            .into_iter()
            .filter(|f| forms_seen.insert(f.clone()))
            .collect();
        built = built
            .iter()
            .flat_map(|prefix| forms.iter().map(move |f| format!("{prefix}{f}")))
            .take(MAX_KEYS)
            .collect();
    }
    keys.extend(built);
}

fn first_letter(reading: &str) -> String {
    reading.chars().take(1).collect()
}

/// What a name query asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum NameQuery {
    /// Names containing these characters.
    Characters(String),
    /// Names whose full pinyin or initials begin with these letters.
    Pinyin(String),
}

impl NameQuery {
    /// `None` for an empty query; an error for one too long to mean a name.
    pub fn parse(text: &str) -> Result<Option<NameQuery>, String> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        if text.chars().count() > 64 {
            return Err("must be at most 64 characters".into());
        }
        // ü is stored as v (and u): a query typed with ü means the same.
        let latin: String = text
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_lowercase()
            .replace('ü', "v");
        if latin.chars().all(|c| c.is_ascii_alphanumeric()) {
            Ok(Some(NameQuery::Pinyin(latin)))
        } else {
            Ok(Some(NameQuery::Characters(text.to_owned())))
        }
    }
}

/// The grams an index finds a name containing `text` by (the migration's
/// `resident_name_grams` computes a name's: every character and every pair of adjacent
/// characters): the pairs of `text`, or its one character. Every gram of the query is a
/// gram of any name that contains it, so the index misses none; `strpos` then keeps the
/// names that hold the query itself.
pub fn character_grams(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut grams: Vec<String> = if chars.len() < 2 {
        vec![text.to_owned()]
    } else {
        chars.windows(2).map(|pair| pair.iter().collect()).collect()
    };
    grams.sort();
    grams.dedup();
    grams
}

/// The index's keys for `text` at `centre` (the migration's `resident_centre_name_grams`
/// keys a name's grams by its centre, so a search reads one centre's lists, not the
/// district's): each of [`character_grams`] after the centre's id and a space.
pub fn centre_character_grams(centre: uuid::Uuid, text: &str) -> Vec<String> {
    character_grams(text)
        .into_iter()
        .map(|gram| format!("{centre} {gram}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_is_found_by_its_pairs_or_its_one_character() {
        assert_eq!(character_grams("张伟"), vec!["张伟"]);
        assert_eq!(character_grams("张"), vec!["张"]);
        assert_eq!(character_grams("欧阳娜娜"), vec!["娜娜", "欧阳", "阳娜"]);
        assert_eq!(character_grams("哈哈哈"), vec!["哈哈"]);
    }

    #[test]
    fn a_query_s_keys_are_its_grams_at_its_centre() {
        let centre = uuid::Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef);
        assert_eq!(
            centre_character_grams(centre, "欧阳娜"),
            vec![
                "01234567-89ab-cdef-0123-456789abcdef 欧阳",
                "01234567-89ab-cdef-0123-456789abcdef 阳娜"
            ]
        );
    }

    fn keys(name: &str) -> Vec<String> {
        name_keys(name)
    }

    #[test]
    fn chinese_names_get_full_pinyin_and_initials() {
        assert_eq!(keys("张三"), ["zhangsan", "zs"]);
        assert_eq!(keys("欧阳秀英"), ["ouyangxiuying", "oyxy"]);
    }

    #[test]
    fn latin_letters_are_kept() {
        assert_eq!(keys("Tom 李"), ["tomli", "tl"]);
        assert_eq!(keys("Émile 李"), ["émileli", "él"]);
    }

    #[test]
    fn surnames_are_read_as_surnames() {
        assert_eq!(keys("曾小贤"), ["zengxiaoxian", "zxx"]);
        assert_eq!(keys("单田芳"), ["shantianfang", "stf"]);
        assert_eq!(keys("区志华"), ["ouzhihua", "ozh"]);
        assert_eq!(keys("尉迟恭"), ["yuchigong", "weichigong", "ycg", "wcg"]);
        assert_eq!(keys("盖丽丽"), ["gelili", "gailili", "gll"]);
        assert_eq!(keys("乐嘉"), ["yuejia", "lejia", "yj", "lj"]);
        // Only the first character is a surname: 曾 in a given name keeps its usual reading.
        assert_eq!(keys("王曾"), ["wangceng", "wc"]);
    }

    #[test]
    fn a_two_character_surname_is_also_read_as_one_character_and_a_given_name() {
        assert_eq!(keys("单于明"), ["chanyuming", "shanyuming", "cym", "sym"]);
        assert_eq!(keys("万俟雅"), ["moqiya", "wanqiya", "mqy", "wqy"]);
    }

    #[test]
    fn u_umlaut_is_typed_v_u_or_yu() {
        assert_eq!(
            keys("吕建国"),
            ["lvjianguo", "lujianguo", "lyujianguo", "ljg"]
        );
        assert_eq!(keys("徐女"), ["xunv", "xunu", "xunyu", "xn"]);
    }

    #[test]
    fn keys_stay_few_for_a_long_name_of_many_u_umlauts() {
        let name = "吕".repeat(12);
        let keys = keys(&name);
        assert_eq!(
            keys.len(),
            MAX_KEYS + 1,
            "64 full readings and one initials"
        );
        assert_eq!(keys[0], "lv".repeat(12));
    }

    #[test]
    fn queries_are_read_as_characters_or_pinyin() {
        assert_eq!(NameQuery::parse("  "), Ok(None));
        assert_eq!(
            NameQuery::parse("Zhang San"),
            Ok(Some(NameQuery::Pinyin("zhangsan".into())))
        );
        assert_eq!(
            NameQuery::parse("张"),
            Ok(Some(NameQuery::Characters("张".into())))
        );
        assert_eq!(
            NameQuery::parse("Lü"),
            Ok(Some(NameQuery::Pinyin("lv".into())))
        );
        assert!(NameQuery::parse(&"z".repeat(65)).is_err());
    }
}
