"""The page both query benchmarks time: 50 records with region, parties, persons and every
kind's own fields (imported by ``query_latency`` and by ``query_load``'s light generator)."""

QUERY_PAGE = """
query Page($first: Int!) {
  records(first: $first) {
    edges { node {
      id kind source sourceKey title occurredAt status riskLevel
      region { code name level }
      parties { role name person { id name } }
      ... on Dispute { mediator mediationOrg amountInvolved }
      ... on GridEvent { gridCode reporter }
      ... on PoliceAlert { alertNumber alarmTime }
      ... on Petition { handlingUnit form }
      ... on CourtFiling { caseNumber cause }
    } }
  }
}
"""
