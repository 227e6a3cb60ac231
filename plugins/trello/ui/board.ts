import { ref, watch, type Ref } from 'vue';
import { get } from '../../../ui/src/api';
import type { Label, Member, Named } from './types';

/** A board's lists, labels and members, loaded when the board changes (for the pickers). */
export function useBoard(boardId: Ref<string | null>) {
  const lists = ref<Named[]>([]);
  const labels = ref<Label[]>([]);
  const members = ref<Member[]>([]);
  watch(
    boardId,
    async (id) => {
      if (!id) return void ((lists.value = []), (labels.value = []), (members.value = []));
      const base = `/api/trello/boards/${encodeURIComponent(id)}`;
      const [l, la, m] = await Promise.all([get<{ lists: Named[] }>(`${base}/lists`), get<{ labels: Label[] }>(`${base}/labels`), get<{ members: Member[] }>(`${base}/members`)]);
      lists.value = l.lists;
      labels.value = la.labels;
      members.value = m.members;
    },
    { immediate: true },
  );
  return { lists, labels, members };
}
