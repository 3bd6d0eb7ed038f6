//! Markdown to HTML for guidance articles, safe to put in a page as it is.
//!
//! pulldown-cmark parses; before its HTML writer sees the events, this module
//! - drops raw HTML (block and inline) entirely: an article cannot carry a tag, a script or an
//!   event handler, whatever a coordinator pastes;
//! - keeps a link only when its address is `https:`, `http:`, `mailto:`, `tel:`, a path on
//!   this site (`/…`, not `//…`) or a fragment (`#…`); any other link (`javascript:`, `data:`,
//!   …) becomes its plain text;
//! - drops images (their alt text stays as text): the CSP would block outside images anyway;
//! - writes its own opening tags with the stylesheet's classes.
//!
//! Every other piece of text goes through pulldown-cmark's escaping writer, so the only markup
//! in the output is markup this module or pulldown-cmark's fixed tags wrote.

use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

/// Renders an article's Markdown.
pub fn render(markdown: &str) -> String {
    let parser = Parser::new_ext(markdown, Options::ENABLE_STRIKETHROUGH);
    // For each open link: whether it was kept (so its end tag is written or not).
    let mut links: Vec<bool> = Vec::new();
    let events = parser.filter_map(move |event| match event {
        Event::Html(_) | Event::InlineHtml(_) => None,
        Event::Start(tag) => start(tag, &mut links),
        Event::End(end) => finish(end, &mut links),
        other => Some(other),
    });
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut out, events);
    out
}

fn html(s: impl Into<String>) -> Option<Event<'static>> {
    Some(Event::Html(CowStr::from(s.into())))
}

fn start<'a>(tag: Tag<'a>, links: &mut Vec<bool>) -> Option<Event<'a>> {
    match tag {
        Tag::Paragraph => html("<p class=\"body\">"),
        Tag::Heading { level, .. } => html(match level {
            HeadingLevel::H1 | HeadingLevel::H2 => "<h2 class=\"heading-m\">",
            _ => "<h3 class=\"heading-s\">",
        }),
        Tag::List(None) => html("<ul class=\"list list--bullet\">\n"),
        Tag::List(Some(first)) => html(format!(
            "<ol class=\"list list--number\" start=\"{first}\">\n"
        )),
        Tag::Link { dest_url, .. } => match safe_href(&dest_url) {
            Some(href) => {
                links.push(true);
                let external = href.starts_with("http");
                html(format!(
                    "<a class=\"link\" href=\"{href}\"{}>",
                    if external {
                        " rel=\"noopener noreferrer\""
                    } else {
                        ""
                    }
                ))
            }
            None => {
                links.push(false);
                None
            }
        },
        Tag::Image { .. } | Tag::HtmlBlock => None,
        other => Some(Event::Start(other)),
    }
}

fn finish<'a>(end: TagEnd, links: &mut Vec<bool>) -> Option<Event<'a>> {
    match end {
        TagEnd::Paragraph => html("</p>\n"),
        TagEnd::Heading(level) => html(match level {
            HeadingLevel::H1 | HeadingLevel::H2 => "</h2>\n",
            _ => "</h3>\n",
        }),
        TagEnd::List(false) => html("</ul>\n"),
        TagEnd::List(true) => html("</ol>\n"),
        TagEnd::Link => links
            .pop()
            .unwrap_or(false)
            .then(|| Event::Html("</a>".into())),
        TagEnd::Image | TagEnd::HtmlBlock => None,
        other => Some(Event::End(other)),
    }
}

/// The address, escaped for a double-quoted attribute, if its scheme is allowed.
fn safe_href(url: &str) -> Option<String> {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    let allowed = ["https://", "http://", "mailto:", "tel:"]
        .iter()
        .any(|s| lower.starts_with(s))
        || (url.starts_with('/') && !url.starts_with("//") && !url.starts_with("/\\"))
        || url.starts_with('#');
    if !allowed {
        return None;
    }
    let mut out = String::with_capacity(url.len());
    for b in url.bytes() {
        match b {
            b'&' => out.push_str("&amp;"),
            b'a'..=b'z'
            | b'A'..=b'Z'
            | b'0'..=b'9'
            | b'-'
            | b'.'
            | b'_'
            | b'~'
            | b':'
            | b'/'
            | b'?'
            | b'#'
            | b'@'
            | b'!'
            | b'$'
            | b'('
            | b')'
            | b'*'
            | b'+'
            | b','
            | b';'
            | b'='
            | b'%' => out.push(char::from(b)),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::render;

    /// Every tag in the output is one this module or pulldown-cmark's fixed writer makes,
    /// with only known attributes, and every link's address is an allowed one. Text `<` is
    /// escaped, so each `<` in the output opens a real tag.
    fn check_markup(source: &str, html: &str) {
        const TAGS: [&str; 15] = [
            "p",
            "h2",
            "h3",
            "ul",
            "ol",
            "li",
            "a",
            "em",
            "strong",
            "code",
            "pre",
            "blockquote",
            "hr",
            "br",
            "del",
        ];
        for tag in html.split('<').skip(1) {
            let inside = tag.split('>').next().unwrap_or_default();
            let inside = inside.trim_start_matches('/').trim_end_matches('/');
            let mut parts = inside.splitn(2, ' ');
            let name = parts.next().unwrap_or_default();
            assert!(
                TAGS.contains(&name),
                "{source:?} made a <{name}> tag: {html:?}"
            );
            let mut attrs = parts.next().unwrap_or_default().trim();
            while !attrs.is_empty() {
                let (key, rest) = attrs.split_once("=\"").unwrap_or_else(|| {
                    panic!("{source:?} made a bare attribute in <{inside}>: {html:?}")
                });
                let (value, rest) = rest.split_once('"').unwrap();
                assert!(
                    ["class", "href", "rel", "start"].contains(&key),
                    "{source:?} made attribute {key}: {html:?}"
                );
                if key == "href" {
                    let v = value.to_lowercase();
                    assert!(
                        ["https://", "http://", "mailto:", "tel:", "#"]
                            .iter()
                            .any(|p| v.starts_with(p))
                            || (v.starts_with('/') && !v.starts_with("//")),
                        "{source:?} made href {value:?}"
                    );
                }
                attrs = rest.trim();
            }
        }
    }

    #[test]
    fn markdown_becomes_the_pages_own_markup() {
        let html = render(
            "# Title\n\nSome *words* and a [link](https://www.gov.uk/report).\n\n- one\n- two\n\n1. first\n",
        );
        assert!(
            html.contains("<h2 class=\"heading-m\">Title</h2>"),
            "{html}"
        );
        assert!(
            html.contains("<p class=\"body\">Some <em>words</em>"),
            "{html}"
        );
        assert!(
            html.contains(
                "<a class=\"link\" href=\"https://www.gov.uk/report\" rel=\"noopener noreferrer\">link</a>"
            ),
            "{html}"
        );
        assert!(html.contains("<ul class=\"list list--bullet\">"), "{html}");
        assert!(
            html.contains("<ol class=\"list list--number\" start=\"1\">"),
            "{html}"
        );
        check_markup("sample", &html);
        let local = render("[report](/reports/new) or call [999](tel:999)");
        assert!(
            local.contains("href=\"/reports/new\">report</a>"),
            "{local}"
        );
        assert!(local.contains("href=\"tel:999\">999</a>"), "{local}");
    }

    #[test]
    fn no_script_handler_or_dangerous_link_comes_out() {
        let attacks = [
            "<script>alert(1)</script>",
            "Hello <script>alert(1)</script> there",
            "<img src=x onerror=alert(1)>",
            "<a href=\"javascript:alert(1)\">click</a>",
            "[click](javascript:alert(1))",
            "[click](JaVaScRiPt:alert(1))",
            "[click]( javascript:alert(1))",
            "[click](data:text/html;base64,PHNjcmlwdD4=)",
            "[click](//evil.example/)",
            "[click](https://x.example/\"onmouseover=\"alert(1))",
            "![x](https://evil.example/a.png\" onerror=\"alert(1))",
            "<iframe src=https://evil.example></iframe>",
            "<style>body{display:none}</style>",
            "`<script>` in code is shown, not run",
            "<div onclick=alert(1)>text</div>",
            "[x]: javascript:alert(1)\n\n[ref][x]",
            "<svg/onload=alert(1)>",
            "&lt;script&gt;alert(1)&lt;/script&gt;",
        ];
        for attack in attacks {
            let html = render(attack);
            check_markup(attack, &html);
            assert!(
                !html.to_lowercase().contains("<script"),
                "{attack:?} gave {html:?}"
            );
        }
        // Code spans are escaped text.
        assert!(render("`<script>`").contains("&lt;script&gt;"));
        // A dropped link keeps its words.
        assert!(render("[click](javascript:alert(1))").contains("click"));
    }
}
