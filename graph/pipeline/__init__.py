"""The build: read the input files (``sources``, ``fastparse``), close them under OWL 2 RL
(``reason``, ``fastreason``), check them (``validate``, ``fastvalidate``, ``fastshacl``), write the
dataset and its manifest (``build``); exports of a build (``export``) and synthetic data for
benchmarks (``generate``)."""
