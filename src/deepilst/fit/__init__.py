"""Fitting single-bead LJ models to a target g(r) with MD in the loop: the target, the CG runs
and their scores (eps_rdf, relative-entropy gradient and Hessian), and the fit methods."""

from deepilst.fit.cgmd import CGEvaluation, CGEvaluator, CGProtocol, basin
from deepilst.fit.result import FitResult
from deepilst.fit.target import Target

__all__ = ["CGEvaluation", "CGEvaluator", "CGProtocol", "FitResult", "Target", "basin"]
