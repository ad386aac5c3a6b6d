//! The demo shop page (`/shop`): the products of the shop database and the voice widget, the
//! way a real shop page would embed it with one script tag.

use crate::store::model::Product;

/// Text made safe for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn price(cents: i64) -> String {
    format!("${}.{:02}", cents / 100, cents.rem_euclid(100))
}

/// The page. `token` is the signed-in shopper's token, which a real shop would put in its
/// page the same way (the demo takes it from the address, `/shop?token=...`).
pub fn render(products: &[Product], token: Option<&str>) -> String {
    let mut items = String::new();
    for p in products {
        let variants = p.variant_list();
        let variants = if variants.is_empty() {
            String::new()
        } else {
            format!(
                "<p class=\"variants\">{}</p>",
                escape(&variants.join(" · "))
            )
        };
        items.push_str(&format!(
            "<li class=\"product\"><h2>{}</h2><p class=\"sku\">{}</p>{variants}<p class=\"price\">{}</p></li>\n",
            escape(&p.name),
            escape(&p.sku),
            price(p.price_cents),
        ));
    }
    let token_attr = token
        .filter(|t| !t.is_empty())
        .map(|t| format!(" data-customer-token=\"{}\"", escape(t)))
        .unwrap_or_default();
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demo shop · hotline</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 0; color: #222; background: #fafafa; }}
header {{ background: #1f3b57; color: white; padding: 1rem 2rem; }}
main {{ padding: 1rem 2rem 8rem; }}
ul.products {{ list-style: none; padding: 0; display: grid; gap: 1rem;
  grid-template-columns: repeat(auto-fill, minmax(14rem, 1fr)); }}
li.product {{ background: white; border: 1px solid #ddd; border-radius: .5rem; padding: 1rem; }}
li.product h2 {{ font-size: 1.05rem; margin: 0 0 .3rem; }}
.sku, .variants {{ color: #666; font-size: .85rem; margin: .2rem 0; }}
.price {{ font-weight: bold; }}
</style>
</head>
<body>
<header><h1>Demo shop</h1><p>Questions about an order? Press “Talk to us” and ask.</p></header>
<main>
<ul class="products">
{items}</ul>
</main>
<script src="/widget.js"{token_attr}></script>
</body>
</html>
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_and_the_widget_are_on_the_page_and_text_is_escaped() {
        let products = vec![Product {
            sku: "SKU-1".into(),
            name: "Kettle <b>\"steel\"</b>".into(),
            price_cents: 4999,
            variants: r#"["red","blue"]"#.into(),
        }];
        let page = render(&products, Some("v1.C1.9.ab\"><script>"));
        assert!(page.contains("Kettle &lt;b&gt;&quot;steel&quot;&lt;/b&gt;"));
        assert!(page.contains("$49.99"));
        assert!(page.contains("red · blue"));
        assert!(page.contains(r#"<script src="/widget.js" data-customer-token="v1.C1.9.ab&quot;&gt;&lt;script&gt;"></script>"#));
        assert!(!render(&products, None).contains("data-customer-token"));
    }
}
