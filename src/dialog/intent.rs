//! A phrase lexicon of what callers ask for, in English and Chinese: which tools a caller's
//! words point at. It narrows the model's grammar to those tools (the model still chooses
//! among them and fills the arguments under the grammar); with no match the model gets every
//! tool and reply kind.
//!
//! Why: measured on the scenario suite, SmolLM2-135M alone picks the right tool for about
//! half of the caller lines (README, "Dialog core"); with the lexicon narrowing its choice the
//! suite passes far more often. A larger model (the Mandarin/model-choice issue) can be
//! measured with the lexicon off (`hotline eval --model-only`).

use regex::Regex;

/// `(tool, pattern)`: case-insensitive. Strong rules name the request outright ("return",
/// "cancel", "refund"); weak ones only hint at it ("I don't need it anymore", "I moved") and
/// count only when no strong rule matches.
const STRONG: [(&str, &str); 10] = [
    (
        "record_survey",
        r"\b(rate|rating|out of (5|five)|score|stars?|survey)\b|打分|评分|[1-5一二三四五]分",
    ),
    (
        "recommend_products",
        r"\b(recommend\w*|suggest\w*|what else|go(es)? well with|similar products?)\b|推荐",
    ),
    (
        "change_shipping_address",
        r"\b((new|shipping|delivery|home|street|postal|mailing) address|address change|address is \d|change (the |my )?address|(sen[dt]|ship\w*|deliver\w*|go)\b.{0,40}\bto\b\s+(my \w+:? )?\d+ \w+)|地址|改寄|寄到|搬家了",
    ),
    (
        "cancel_order",
        r"\b(cancel|cancellation|call (it |this |that )?off|call off|scrap (it|this|that|the order|my order)|stop (the |my |this )?order|stop (it|this) from (going out|shipping|being sent)|don'?t (send|ship) it|by mistake)\b|\b(want|need|get|have) (it|this|that|them|the order|my order)( \w+)? cancell?ed\b|取消",
    ),
    (
        "request_exchange",
        r"\b(exchange|swap|different (size|colou?r)|another (size|colou?r)|(size|colou?r|one|ones) instead|(x?s|small|medium|large|x?x?l|bigger|smaller) instead)\b|换货|换成|换一",
    ),
    (
        "start_return",
        r"\b(return(ing)?|send (it|them|this|these) back|take (it|them) back|give (it|them) back|(want|like|get|need) (my )?money back for|(want|like|get|need) a refund for)\b|退货|退回",
    ),
    (
        "get_refund_status",
        r"\b(refund status|(my|the|that) refund|refund (coming|due|on)|(there'?s|is there) (a|any) refund|any refund|refund (yet|gone|come|looking)|(has|is|was|did) (my |the )?(refund|money)|when (do|will) i get (my |the )?(money|refund)|money back yet|reimburs\w*|paid back)\b|退款",
    ),
    (
        "file_complaint",
        r"\b(complain\w*|rude|broken|damaged|crushed|terrible|unacceptable|furious|angry)\b|投诉|态度差|损坏",
    ),
    (
        "track_shipment",
        r"\b(track\w*|where(’|')?s my (parcel|package|order|delivery)|where is (my|the) (parcel|package|order|delivery)|courier|carrier|in transit|delivery date|where (it|they) (is|are)|where (are|is) (my|the)|whereabouts|driver|never (got|arrived|came|received|turned up)|(hasn'?t|has not|didn'?t|did not|still not|not yet) (arrived|come|turned up|shown up))\b|物流|快递|到哪|什么时候到|包裹|能到吗|今天能到|什么时候能到|还没收到|还没到|派送|签收",
    ),
    (
        "get_order_status",
        r"\b(status|shipped( yet)?|gone out|sent out|dispatched|what'?s (happening|going on) with|check (on )?(my |the |an )?order|check on (my|the|an) order|order details?|(got|been|was|were|is it|already|actually) cancell?ed)\b|订单状态|发货了吗",
    ),
];

const WEAK: [(&str, &str); 7] = [
    (
        "request_exchange",
        r"\b(doesn'?t fit|does not fit|too (small|big|tight|loose|large|short|long))\b",
    ),
    ("start_return", r"\b(refund|money back)\b"),
    (
        "cancel_order",
        r"\b(don'?t (want|need) (it|them|the order) any ?more|changed my mind)\b",
    ),
    ("change_shipping_address", r"\b(moved|new place|instead)\b"),
    (
        "track_shipment",
        r"\b(arriv\w*|get here|show up|turn up|be here|on its way|when will (it|they|my)|expecting|when it'?s coming)\b",
    ),
    (
        "file_complaint",
        r"\b(unhappy|disappointed|awful|worst|not happy)\b",
    ),
    ("get_order_status", r"\b(my order|the order)\b"),
];

/// Tools the caller's words point at.
#[derive(Debug)]
pub struct IntentLexicon {
    strong: Vec<(&'static str, Regex)>,
    weak: Vec<(&'static str, Regex)>,
}

impl Default for IntentLexicon {
    fn default() -> Self {
        Self::new()
    }
}

fn compile(rules: &[(&'static str, &str)]) -> Vec<(&'static str, Regex)> {
    rules
        .iter()
        .map(|(tool, pattern)| {
            let re = Regex::new(&format!("(?i){pattern}")).expect("a valid built-in pattern");
            (*tool, re)
        })
        .collect()
}

impl IntentLexicon {
    pub fn new() -> IntentLexicon {
        IntentLexicon {
            strong: compile(&STRONG),
            weak: compile(&WEAK),
        }
    }

    /// The tools `text` points at (none when it says nothing the lexicon knows).
    pub fn candidates(&self, text: &str) -> Vec<&'static str> {
        let matching = |rules: &[(&'static str, Regex)]| -> Vec<&'static str> {
            let mut tools: Vec<&'static str> = Vec::new();
            for (tool, re) in rules {
                if re.is_match(text) && !tools.contains(tool) {
                    tools.push(tool);
                }
            }
            tools
        };
        let strong = matching(&self.strong);
        if strong.is_empty() {
            matching(&self.weak)
        } else {
            strong
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_at_the_tools_callers_mean() {
        let x = IntentLexicon::new();
        let cases: [(&str, &[&str]); 14] = [
            ("Has my order 210311 gone out yet?", &["get_order_status"]),
            (
                "not sure whether order 412877 actually got cancelled",
                &["get_order_status"],
            ),
            (
                "a return for the kettle, I don't need it anymore",
                &["start_return"],
            ),
            (
                "Can you send order 230591 to 12 Oak Street, Oakland 94607?",
                &["change_shipping_address"],
            ),
            ("Where's my package?", &["track_shipment"]),
            (
                "I want to return the headphones, they stopped charging.",
                &["start_return"],
            ),
            ("Did my refund go through?", &["get_refund_status"]),
            ("Can I swap it for a bigger size?", &["request_exchange"]),
            ("I'd rate you five out of five", &["record_survey"]),
            ("Please cancel order 100042", &["cancel_order"]),
            ("我要退货", &["start_return"]),
            ("What's the weather like?", &[]),
            ("I want to return it and get a refund", &["start_return"]),
            (
                "Has my refund for order 100042 come through yet?",
                &["get_refund_status"],
            ),
        ];
        for (text, want) in cases {
            assert_eq!(x.candidates(text), want, "{text}");
        }
    }
}
