"""analytics slice (issue 24): customer analysis inside the purposes people were told of — RFM, life stage and
behaviour segments, lifetime value (BG/NBD + Gamma-Gamma), churn with its explanation and fairness report, KPIs,
the seed 002 checklist and the data map. Two lawful paths: personal data under a purpose that states profiling
(R-17-1), and 仮名加工情報 produced by the deid slice (R-41-3, R-41-5)."""
