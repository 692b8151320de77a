//! A streaming reader of record-oriented XML (ACES `App`, PIES `Item`): each record is gathered
//! into a small flat list of its elements and handed over one at a time, so memory holds one
//! record whatever the file's size. Parsing runs on a blocking thread and feeds a bounded
//! channel.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use quick_xml::Reader;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::Event;
use tokio::sync::mpsc;

/// One element inside a record: its path below the record (`"Part"`, `"Descriptions/Description"`),
/// attributes and text.
#[derive(Debug, Clone, Default)]
pub struct Node {
    /// Slash-separated path below the record element.
    pub path: String,
    /// Attributes, in order.
    pub attrs: Vec<(String, String)>,
    /// Text content (trimmed).
    pub text: String,
}

impl Node {
    /// An attribute's value.
    #[must_use]
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A record: the record element itself (path `""`) and everything inside it.
#[derive(Debug, Clone, Default)]
pub struct Record {
    /// Line where the record starts (1-based).
    pub line: u64,
    /// The record element first, then its descendants in document order.
    pub nodes: Vec<Node>,
}

impl Record {
    /// The first node at a path.
    #[must_use]
    pub fn node(&self, path: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.path == path)
    }

    /// The text of the first node at a path, when not empty.
    #[must_use]
    pub fn text(&self, path: &str) -> Option<&str> {
        self.node(path)
            .map(|n| n.text.as_str())
            .filter(|t| !t.is_empty())
    }

    /// Every node at a path.
    pub fn all<'a>(&'a self, path: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.nodes.iter().filter(move |n| n.path == path)
    }
}

/// What the reader hands over.
#[derive(Debug)]
pub enum Item {
    /// The document's header (a record of the header element).
    Header(Record),
    /// One record.
    Record(Record),
    /// The XML is broken here; nothing after it is read.
    Broken {
        /// Line of the error.
        line: u64,
        /// What is wrong.
        message: String,
    },
}

/// Counts the newlines the XML reader has consumed, for error line numbers.
struct Lines<R> {
    inner: R,
    newlines: Arc<AtomicU64>,
}

impl<R: std::io::Read> std::io::Read for Lines<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(buf)
    }
}

impl<R: BufRead> BufRead for Lines<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, amt: usize) {
        if let Ok(buf) = self.inner.fill_buf() {
            let n = buf[..amt.min(buf.len())]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            self.newlines.fetch_add(n as u64, Ordering::Relaxed);
        }
        self.inner.consume(amt);
    }
}

/// Starts reading `path` on a blocking thread; records come out of the returned channel. The
/// record element is `record` (e.g. `App`), the header element `header` (e.g. `Header`).
///
/// # Errors
/// When the file cannot be opened.
pub fn stream(
    path: &Path,
    record: &'static str,
    header: &'static str,
) -> std::io::Result<mpsc::Receiver<Item>> {
    let file = std::fs::File::open(path)?;
    let (tx, rx) = mpsc::channel(256);
    tokio::task::spawn_blocking(move || {
        let newlines = Arc::new(AtomicU64::new(0));
        let reader = Lines {
            inner: BufReader::with_capacity(256 * 1024, file),
            newlines: newlines.clone(),
        };
        read_all(reader, &newlines, record, header, &tx);
    });
    Ok(rx)
}

fn local(name: &[u8]) -> String {
    let name = match name.iter().rposition(|&b| b == b':') {
        Some(i) => &name[i + 1..],
        None => name,
    };
    String::from_utf8_lossy(name).into_owned()
}

fn read_all<R: BufRead>(
    reader: R,
    newlines: &AtomicU64,
    record: &str,
    header: &str,
    tx: &mpsc::Sender<Item>,
) {
    let mut xml = Reader::from_reader(reader);
    xml.config_mut().trim_text(false);
    let mut buf = Vec::new();
    // The record being gathered, and the stack of open elements inside it (node indexes).
    let mut current: Option<(Record, bool)> = None;
    let mut stack: Vec<usize> = Vec::new();
    let mut depth_names: Vec<String> = Vec::new();
    let line = || newlines.load(Ordering::Relaxed) + 1;
    loop {
        let event = xml.read_event_into(&mut buf);
        let event = match event {
            Ok(e) => e,
            Err(e) => {
                let _ = tx.blocking_send(Item::Broken {
                    line: line(),
                    message: e.to_string(),
                });
                return;
            }
        };
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                let name = local(e.name().as_ref());
                let attrs = e
                    .attributes()
                    .filter_map(Result::ok)
                    .map(|a| {
                        (
                            local(a.key.as_ref()),
                            a.unescape_value()
                                .map(|v| v.into_owned())
                                .unwrap_or_default(),
                        )
                    })
                    .collect();
                match &mut current {
                    None if name == record || name == header => {
                        current = Some((
                            Record {
                                line: line(),
                                nodes: vec![Node {
                                    path: String::new(),
                                    attrs,
                                    text: String::new(),
                                }],
                            },
                            name == header,
                        ));
                        stack = vec![0];
                        depth_names.clear();
                        if empty {
                            finish(&mut current, tx);
                        }
                    }
                    None => {}
                    Some((rec, _)) => {
                        depth_names.push(name);
                        rec.nodes.push(Node {
                            path: depth_names.join("/"),
                            attrs,
                            text: String::new(),
                        });
                        if empty {
                            depth_names.pop();
                        } else {
                            stack.push(rec.nodes.len() - 1);
                        }
                    }
                }
            }
            Event::End(_) if current.is_some() => {
                if stack.len() <= 1 {
                    finish(&mut current, tx);
                    stack.clear();
                } else {
                    stack.pop();
                    depth_names.pop();
                }
            }
            Event::Text(ref t) => {
                if let (Some((rec, _)), Some(&i)) = (&mut current, stack.last())
                    && let Ok(s) = t.decode()
                {
                    rec.nodes[i].text.push_str(&s);
                }
            }
            Event::CData(ref t) => {
                if let (Some((rec, _)), Some(&i)) = (&mut current, stack.last()) {
                    rec.nodes[i].text.push_str(&String::from_utf8_lossy(t));
                }
            }
            Event::GeneralRef(ref r) => {
                if let (Some((rec, _)), Some(&i)) = (&mut current, stack.last()) {
                    let resolved = if r.is_char_ref() {
                        r.resolve_char_ref().ok().flatten().map(String::from)
                    } else {
                        r.decode()
                            .ok()
                            .and_then(|name| resolve_predefined_entity(&name).map(str::to_owned))
                    };
                    match resolved {
                        Some(s) => rec.nodes[i].text.push_str(&s),
                        None => {
                            let _ = tx.blocking_send(Item::Broken {
                                line: line(),
                                message: format!("unknown entity &{};", String::from_utf8_lossy(r)),
                            });
                            return;
                        }
                    }
                }
            }
            Event::Eof => {
                if current.is_some() {
                    let _ = tx.blocking_send(Item::Broken {
                        line: line(),
                        message: "the file ends inside a record".into(),
                    });
                }
                return;
            }
            _ => {}
        }
        buf.clear();
    }
}

fn finish(current: &mut Option<(Record, bool)>, tx: &mpsc::Sender<Item>) {
    if let Some((mut rec, is_header)) = current.take() {
        for n in &mut rec.nodes {
            let t = n.text.trim();
            if t.len() != n.text.len() {
                n.text = t.to_owned();
            }
        }
        let item = if is_header {
            Item::Header(rec)
        } else {
            Item::Record(rec)
        };
        let _ = tx.blocking_send(item);
    }
}
