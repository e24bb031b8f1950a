"""Rerank documents with the lastrank Python package.

    python3 examples/python/rerank.py MODEL_DIR [QUERY DOCUMENT...]

Prints the model info, then one line per document, best first: rank, index, score, text.
"""
import sys

import lastrank


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    query = argv[2] if len(argv) > 2 else "What are the health benefits of green tea?"
    documents = argv[3:] or [
        "Green tea contains antioxidants called catechins that may help reduce inflammation.",
        "El té verde es rico en antioxidantes y puede mejorar la función cerebral.",
        "The stock market closed higher on Tuesday after a volatile session.",
    ]
    model = lastrank.Reranker(argv[1], precision="fp32")
    print(model.info)
    for rank, result in enumerate(model.rerank(query, documents)):
        print(f"{rank}\t{result['index']}\t{result['relevance_score']:.9g}\t{result['document']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
