//! Orchestration: the [`Diagnosis`](crate::Diagnosis) (inputs, extras, findings), the runner
//! (what runs when, under one deadline), each target's plan, the matrix it ends in, and the typed
//! step events an observer sees.

pub(crate) mod changes;
pub(crate) mod diagnosis;
pub(crate) mod matrix;
pub(crate) mod plan;
pub(crate) mod runner;
pub(crate) mod step;
