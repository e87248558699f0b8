"""The DeepILST networks, one module per part (each fits, saves and loads itself).

* :mod:`~deepilst.model.core`: :class:`~deepilst.model.core.DeepILST` (fit, predict, save, load)
* :mod:`~deepilst.model.config`: default hyper-parameters, :func:`model_config` (validation)
* :mod:`~deepilst.model.features`: network inputs from g(r) on the model's r grid
* :mod:`~deepilst.model.targets`: what the networks regress and the way back to C12, C6, ...
* :mod:`~deepilst.model.nets`: stacked MLPs (torch training, numpy inference)
* :mod:`~deepilst.model.uncertainty`: calibrated predictive covariance
* :mod:`~deepilst.model.domain`: the applicability domain check
* :mod:`~deepilst.model.evaluate`: metrics, evaluation of dataset files, parity plots
* :mod:`~deepilst.model.data`: training arrays from datasets, splits by simulation
"""
