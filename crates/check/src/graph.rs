//! `dendrite graph`: the module import graph of a dendritic flake, from
//! the syntax alone: which file defines which `flake.modules` entry, which
//! entry imports which, and where machines are registered.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use dendrite_eval::{EvalSettings, Evaluator};
use dendrite_syntax::RootDatabase;
use petgraph::graph::{DiGraph, NodeIndex};

use crate::output::js;

/// A node: a file of the flake or a `flake.modules` entry.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Node {
    /// A `.nix` file (relative to the flake).
    File(String),
    /// `flake.modules.<class>.<key>`.
    Module {
        /// The class.
        class: String,
        /// The key.
        key: String,
    },
}

impl Node {
    fn id(&self) -> String {
        match self {
            Node::File(f) => format!("file:{f}"),
            Node::Module { class, key } => format!("{class}.{key}"),
        }
    }
}

/// An edge's meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edge {
    /// The file defines (part of) the entry.
    Defines,
    /// The entry (or file) imports the entry.
    Imports,
}

/// The import graph.
pub struct ModuleGraph {
    /// The graph.
    pub graph: DiGraph<Node, Edge>,
}

/// Builds the graph of the flake in `dir`.
pub fn build(dir: &Path) -> Result<ModuleGraph, String> {
    let root = dir.canonicalize().map_err(|e| format!("{}: {e}", dir.display()))?;
    dendrite_eval::run_with_stack(move || {
        let mut ev = Evaluator::new(RootDatabase::default(), EvalSettings::default());
        let (parsed, s) = crate::parse_and_scan(&mut ev, &root);
        let rel = |p: &Path| p.strip_prefix(&root).unwrap_or(p).to_string_lossy().into_owned();
        let mut graph: DiGraph<Node, Edge> = DiGraph::new();
        let mut index: BTreeMap<Node, NodeIndex> = BTreeMap::new();
        let mut node = |graph: &mut DiGraph<Node, Edge>, n: Node| -> NodeIndex {
            *index.entry(n.clone()).or_insert_with(|| graph.add_node(n))
        };
        for f in &parsed {
            node(&mut graph, Node::File(rel(&f.path)));
        }
        // Which entry's value each byte range belongs to.
        let mut owners: Vec<(PathBuf, (u32, u32), Node)> = Vec::new();
        for b in &s.bindings {
            if b.path.len() == 4
                && b.path[0].as_deref() == Some("flake")
                && b.path[1].as_deref() == Some("modules")
                && let (Some(class), Some(key)) = (&b.path[2], &b.path[3])
            {
                owners.push((
                    b.location.path.clone(),
                    b.value,
                    Node::Module { class: class.clone(), key: key.clone() },
                ));
            }
        }
        for d in &s.defs {
            let f = node(&mut graph, Node::File(rel(&d.location.path)));
            let m = node(&mut graph, Node::Module { class: d.class.clone(), key: d.key.clone() });
            if graph.find_edge(f, m).is_none() {
                graph.add_edge(f, m, Edge::Defines);
            }
        }
        for r in &s.refs {
            let (Some(class), Some(key)) = (&r.class, &r.key) else { continue };
            let target = node(&mut graph, Node::Module { class: class.clone(), key: key.clone() });
            let owner = owners
                .iter()
                .filter(|(p, (a, b), _)| *p == r.location.path && *a <= r.location.start && r.location.end <= *b)
                .min_by_key(|(_, (a, b), _)| b - a)
                .map(|(_, _, n)| n.clone())
                .unwrap_or_else(|| Node::File(rel(&r.location.path)));
            let from = node(&mut graph, owner);
            if graph.find_edge(from, target).is_none() {
                graph.add_edge(from, target, Edge::Imports);
            }
        }
        std::mem::forget(ev);
        Ok(ModuleGraph { graph })
    })
}

impl ModuleGraph {
    /// Graphviz DOT.
    pub fn dot(&self) -> String {
        let mut out = String::from("digraph modules {\n  rankdir=LR;\n  node [fontname=\"monospace\"];\n");
        for i in self.graph.node_indices() {
            let n = &self.graph[i];
            let (label, shape) = match n {
                Node::File(f) => (f.clone(), "note"),
                Node::Module { class, key } => (format!("{class}.{key}"), "box"),
            };
            out.push_str(&format!("  {} [label={}, shape={shape}];\n", js(&n.id()), js(&label)));
        }
        for e in self.graph.edge_indices() {
            let (a, b) = self.graph.edge_endpoints(e).expect("edge");
            let style = match self.graph[e] {
                Edge::Defines => " [style=dashed]",
                Edge::Imports => "",
            };
            out.push_str(&format!("  {} -> {}{style};\n", js(&self.graph[a].id()), js(&self.graph[b].id())));
        }
        out.push_str("}\n");
        out
    }

    /// `{"nodes":[{"id","kind","label"}],"edges":[{"from","to","kind"}]}`.
    pub fn json(&self) -> String {
        let nodes: Vec<String> = self
            .graph
            .node_indices()
            .map(|i| {
                let n = &self.graph[i];
                let (kind, label) = match n {
                    Node::File(f) => ("file", f.clone()),
                    Node::Module { class, key } => ("module", format!("{class}.{key}")),
                };
                format!("{{\"id\":{},\"kind\":\"{kind}\",\"label\":{}}}", js(&n.id()), js(&label))
            })
            .collect();
        let edges: Vec<String> = self
            .graph
            .edge_indices()
            .map(|e| {
                let (a, b) = self.graph.edge_endpoints(e).expect("edge");
                let kind = match self.graph[e] {
                    Edge::Defines => "defines",
                    Edge::Imports => "imports",
                };
                format!(
                    "{{\"from\":{},\"to\":{},\"kind\":\"{kind}\"}}",
                    js(&self.graph[a].id()),
                    js(&self.graph[b].id())
                )
            })
            .collect();
        format!("{{\"nodes\":[{}],\"edges\":[{}]}}\n", nodes.join(","), edges.join(","))
    }
}
