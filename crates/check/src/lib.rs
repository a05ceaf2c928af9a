//! `dendrite check`: evaluates a flake's top-level configuration and every
//! machine's module closure and reports what the rules find.
