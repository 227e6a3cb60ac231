import { defineStore } from 'pinia';
import { get, post } from './api';

interface Me {
  user: { id: string; name: string; email: string; role: string; operator: boolean } | null;
  account: { id: string; name: string };
  role: string;
}

export const useSession = defineStore('session', {
  state: () => ({ me: null as Me | null, checked: false }),
  actions: {
    async refresh() {
      try {
        this.me = await get<Me>('/api/auth/me');
      } catch {
        this.me = null;
      }
      this.checked = true;
      return this.me;
    },
    async login(email: string, password: string) {
      await post('/api/auth/login', { email, password });
      await this.refresh();
    },
    async logout() {
      await post('/api/auth/logout');
      this.me = null;
    },
  },
});
